import fs from 'node:fs';

/** One stage of a Dockerfile, as far as the deploy tests need it. */
export interface DockerStage {
  name?: string;
  base: string;
  runs: string[];
  copies: Array<{ from?: string; sources: string[]; to: string }>;
  user?: string;
  cmd?: string[];
  entrypoint?: string[];
  healthcheck?: string;
  expose: string[];
}

/** A small Dockerfile reader: instructions with continuations joined, comments dropped. */
export function readDockerfile(file: string): DockerStage[] {
  const text = fs.readFileSync(file, 'utf8').replace(/\\\r?\n/g, ' ');
  const stages: DockerStage[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const [instruction, ...rest] = line.split(/\s+/);
    const args = rest.join(' ');
    const stage = stages.at(-1);
    switch (instruction!.toUpperCase()) {
      case 'FROM': {
        const m = args.match(/^(\S+)(?:\s+AS\s+(\S+))?$/i);
        stages.push({ base: m?.[1] ?? args, ...(m?.[2] && { name: m[2] }), runs: [], copies: [], expose: [] });
        break;
      }
      case 'RUN':
        stage?.runs.push(args);
        break;
      case 'COPY': {
        const words = args.split(/\s+/);
        const from = words.find((w) => w.startsWith('--from='))?.slice('--from='.length);
        const paths = words.filter((w) => !w.startsWith('--'));
        stage?.copies.push({ ...(from && { from }), sources: paths.slice(0, -1), to: paths.at(-1)! });
        break;
      }
      case 'USER':
        if (stage) stage.user = args;
        break;
      case 'CMD':
        if (stage) stage.cmd = JSON.parse(args) as string[];
        break;
      case 'ENTRYPOINT':
        if (stage) stage.entrypoint = JSON.parse(args) as string[];
        break;
      case 'HEALTHCHECK':
        if (stage) stage.healthcheck = args;
        break;
      case 'EXPOSE':
        stage?.expose.push(...args.split(/\s+/));
        break;
      default:
        break;
    }
  }
  return stages;
}
