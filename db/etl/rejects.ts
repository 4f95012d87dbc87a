import { csvField, openCsvWriter } from './csv-writer';

/** The rejects report: a CSV `file,line,reason`, written as the load goes (bounded memory). */
export interface RejectsWriter {
  add(file: string, line: number, reason: string): void;
  /** Resolves once buffered lines are below the stream's high-water mark (backpressure). */
  drained(): Promise<void>;
  close(): Promise<void>;
}

export async function openRejectsWriter(file: string): Promise<RejectsWriter> {
  const out = await openCsvWriter(file, 'file,line,reason');
  return {
    add: (name, line, reason) => out.line(`${csvField(name)},${line},${csvField(reason)}`),
    drained: () => out.drained(),
    close: () => out.close(),
  };
}
