/*
 * Tries raw syscalls inside a container and prints NAME=RESULT for each probe
 * named on the command line: OK, or the errno name (EPERM, ENOSYS, ...).
 * Each probe runs in a forked child, so one that changes the process (unshare,
 * personality, ptrace) cannot colour the next. Arguments are chosen so that a
 * call the seccomp filter lets through fails (or succeeds) harmlessly with
 * something other than EPERM: EPERM therefore means the filter said no.
 * Built statically by limits-seccomp.test.ts and bind-mounted into busybox.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* A fork-like clone with extra flags; the child exits at once. */
static long clone_with(unsigned long flags) {
  long pid = syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);
  if (pid == 0) _exit(0);
  if (pid > 0) waitpid((pid_t)pid, NULL, 0);
  return pid;
}

/* struct clone_args, version 0 (64 bytes), as in <linux/sched.h>. */
struct clone_args_v0 { uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls; };

static long clone3_plain(void) {
  struct clone_args_v0 args;
  memset(&args, 0, sizeof args);
  args.exit_signal = SIGCHLD;
  long pid = syscall(SYS_clone3, &args, sizeof args);
  if (pid == 0) _exit(0);
  if (pid > 0) waitpid((pid_t)pid, NULL, 0);
  return pid;
}

/* Runs one probe; returns -1 with errno set on failure, anything else on success. */
static long run(const char *name) {
  if (!strcmp(name, "keyctl")) return syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3 /* session */, 0);
  if (!strcmp(name, "add_key")) return syscall(SYS_add_key, "user", "tug-probe", "x", 1, -2 /* process keyring */);
  if (!strcmp(name, "request_key")) return syscall(SYS_request_key, "user", "tug-probe-absent", NULL, 0);
  if (!strcmp(name, "unshare_user")) return unshare(CLONE_NEWUSER);
  if (!strcmp(name, "unshare_net")) return unshare(CLONE_NEWNET);
  if (!strcmp(name, "clone_plain")) return clone_with(0);
  if (!strcmp(name, "clone_newuser")) return clone_with(CLONE_NEWUSER);
  if (!strcmp(name, "clone_newns")) return clone_with(CLONE_NEWNS);
  if (!strcmp(name, "clone3")) return clone3_plain();
  /* NULL target: the kernel answers EFAULT before it checks privilege. */
  if (!strcmp(name, "mount")) return mount("none", NULL, "tmpfs", 0, NULL);
  if (!strcmp(name, "umount2")) return umount2("/", ~0);      /* bad flags: EINVAL */
  if (!strcmp(name, "setns")) return setns(-1, 0);            /* bad fd: EBADF */
  if (!strcmp(name, "pivot_root")) return syscall(SYS_pivot_root, NULL, NULL);
  if (!strcmp(name, "bpf")) return syscall(SYS_bpf, -1, NULL, 0); /* bad command: EINVAL */
  if (!strcmp(name, "perf_event_open")) return syscall(SYS_perf_event_open, NULL, 0, -1, -1, ~0UL); /* bad flags: EINVAL */
  if (!strcmp(name, "ptrace")) return ptrace(PTRACE_TRACEME, 0, NULL, NULL);
  if (!strcmp(name, "kcmp")) return syscall(SYS_kcmp, getpid(), getpid(), 0 /* KCMP_FILE */, 0, 0);
  if (!strcmp(name, "socket_inet")) return socket(AF_INET, SOCK_DGRAM, 0);
  if (!strcmp(name, "socket_alg")) return socket(38 /* AF_ALG */, SOCK_SEQPACKET, 0);
  if (!strcmp(name, "socket_vsock")) return socket(40 /* AF_VSOCK */, SOCK_STREAM, 0);
  if (!strcmp(name, "personality_query")) return personality(0xffffffff);
  if (!strcmp(name, "personality_linux32")) return personality(PER_LINUX32);
  if (!strcmp(name, "personality_no_aslr")) return personality(ADDR_NO_RANDOMIZE);
  errno = EINVAL;
  fprintf(stderr, "seccomp-probe: unknown probe %s\n", name);
  return -2;
}

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) { perror("fork"); return 1; }
    if (pid == 0) {
      errno = 0;
      long r = run(argv[i]);
      if (r == -2) _exit(255);
      _exit(r == -1 ? (errno & 0xff) : 0);
    }
    int status = 0;
    if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) == 255) {
      fprintf(stderr, "seccomp-probe: probe %s did not finish\n", argv[i]);
      return 1;
    }
    int e = WEXITSTATUS(status);
    printf("%s=%s\n", argv[i], e == 0 ? "OK" : strerrorname_np(e));
  }
  return 0;
}
