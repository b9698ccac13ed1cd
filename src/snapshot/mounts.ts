// Mount table queries from /proc/self/mountinfo (the kernel's own view, not
// /etc/mtab), used to keep mount and unmount idempotent.
import { readFile, realpath } from 'node:fs/promises';

/** Mount points as the kernel lists them, with its octal escapes (\040 for space…) decoded. */
export async function mountPoints(): Promise<string[]> {
  const text = await readFile('/proc/self/mountinfo', 'utf8');
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const fields = line.split(' ');
    if (fields.length > 4 && fields[4] !== undefined) out.push(unescapeMountPath(fields[4]));
  }
  return out;
}

function unescapeMountPath(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

export async function isMounted(path: string): Promise<boolean> {
  let real: string;
  try {
    real = await realpath(path);
  } catch {
    return false;
  }
  return (await mountPoints()).includes(real);
}
