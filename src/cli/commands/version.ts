// tug version: the client's and the daemon's versions, as docker prints them. Its own
// module, so the command that start-up is measured by loads nothing it does not use
// (the template engine only with --format).
import { flags, parse } from '../args.js';
import { CLIENT_API_VERSION } from '../client.js';
import type { Ctx } from '../context.js';
import { clientVersion } from '../version-info.js';

export async function version(ctx: Ctx, argv: string[]): Promise<number> {
  const o = parse(argv, flags('string:format,f'));
  const client = {
    Version: clientVersion(),
    ApiVersion: CLIENT_API_VERSION,
    DefaultAPIVersion: CLIENT_API_VERSION,
    NodeVersion: process.version,
    Os: process.platform,
    Arch: process.arch === 'x64' ? 'amd64' : process.arch,
  };
  let server: any;
  let serverErr: unknown;
  try {
    server = await ctx.client.serverVersion();
  } catch (e) {
    serverErr = e;
  }
  const f = o.str('format');
  if (f) {
    const { compileTemplate } = await import('../render/template.js');
    ctx.out(`${compileTemplate(f === 'json' ? '{{json .}}' : f).execute({ Client: client, Server: server ?? null })}\n`);
  } else {
    ctx.out(
      `Client:\n Version:           ${client.Version}\n API version:       ${await ctx.client.apiVersion().catch(() => CLIENT_API_VERSION)}\n` +
        ` Node version:      ${client.NodeVersion}\n OS/Arch:           ${client.Os}/${client.Arch}\n`,
    );
    if (server) {
      ctx.out(
        `\nServer:\n Engine:\n  Version:          ${server.Version}\n  API version:      ${server.ApiVersion} (minimum version ${server.MinAPIVersion ?? '?'})\n` +
          `  Go version:       ${server.GoVersion ?? ''}\n  Git commit:       ${server.GitCommit ?? ''}\n  Built:            ${server.BuildTime ?? ''}\n` +
          `  OS/Arch:          ${server.Os}/${server.Arch}\n  Experimental:     ${Boolean(server.Experimental)}\n`,
      );
      for (const comp of server.Components ?? []) {
        if (comp.Name === 'Engine') continue;
        ctx.out(` ${comp.Name}:\n  Version:          ${comp.Version}\n`);
      }
    }
  }
  if (serverErr) throw serverErr;
  return 0;
}
