// Docker's multiplexed stream format for attach, exec and logs without a TTY:
// each frame is [stream type, 0, 0, 0, uint32 big-endian length] then payload.
export const STDIN = 0;
export const STDOUT = 1;
export const STDERR = 2;

export function frame(stream: number, data: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(data.length, 4);
  return Buffer.concat([header, data]);
}
