// Whether a process exists, without touching it: signal 0 delivers nothing.
// EPERM means it exists but belongs to someone else, which still counts.
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
