// tug command line: parses arguments and dispatches to a command module.
export async function main(argv: string[]): Promise<void> {
  const [cmd] = argv;
  if (!cmd || cmd === '--help' || cmd === 'help') {
    process.stdout.write('Usage: tug COMMAND [OPTIONS]\n');
    return;
  }
  process.stderr.write(`tug: unknown command "${cmd}"\n`);
  process.exitCode = 1;
}
