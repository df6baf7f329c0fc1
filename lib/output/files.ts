import * as fs from 'fs';
import * as path from 'path';

/** Writes the file unless it already holds these bytes; true when written. */
export function writeIfChanged(file: string, content: string, mode: number): boolean {
  const data = Buffer.from(content);
  if (fs.existsSync(file) && fs.readFileSync(file).equals(data)) return false;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, data, { mode });
  fs.chmodSync(tmp, mode);
  fs.renameSync(tmp, file);
  return true;
}

/** Copies files whose bytes differ and removes files the source no longer has; returns what changed. */
export function syncDirectory(from: string, to: string): string[] {
  fs.mkdirSync(to, { recursive: true });
  const changed: string[] = [];
  const names = new Set(fs.readdirSync(from).filter((f) => f.endsWith('.yaml')));
  for (const name of [...names].sort()) {
    const data = fs.readFileSync(path.join(from, name));
    const target = path.join(to, name);
    if (fs.existsSync(target) && fs.readFileSync(target).equals(data)) continue;
    fs.writeFileSync(target, data);
    changed.push(name);
  }
  for (const name of fs.readdirSync(to)) {
    if (name.endsWith('.yaml') && !names.has(name)) {
      fs.rmSync(path.join(to, name));
      changed.push(name);
    }
  }
  return changed;
}
