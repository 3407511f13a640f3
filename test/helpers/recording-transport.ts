/**
 * A fake Transport, named as such: no host behind it. Commands are answered by rules (the first
 * whose pattern matches the quoted command line), files live in memory per host, and every call is
 * recorded, so an activity's decisions can be unit-tested: what it ran, what it wrote, in order.
 * A command no rule answers fails the test: the fake never guesses.
 */
import type { StorageHostRef } from '../../core/hosts';
import { modeBits, type FileFacts, type FileSpec } from '../../core/files';
import { ShellScript, shellCommand } from '../../core/quote';
import type { Command, ExecResult, ExecStreamHandle } from '../../activities/ssh';
import type { FileWrite, Transport } from '../../activities/transport';

export interface Rule {
  match: RegExp;
  reply: Partial<Pick<ExecResult, 'stdout' | 'stderr' | 'code'>>;
}

export interface RecordedCall {
  host: string;
  command: string;
  input?: string;
}

interface FakeFile {
  content: string;
  mode: string;
  uid: number;
}

const END_MARKED = /^(.*); s=\$\?; printf '\\n%s %s\\n' (esxi-zfs-listing-end:[0-9a-f]+) "\$s"; exit "\$s"$/s;
const text = (command: Command) => (command instanceof ShellScript ? command.text : shellCommand(command));
/** `644` → `-rw-r--r--`, as `ls -l` prints it. */
const lsMode = (octal: string) => `-${[...parseInt(octal, 8).toString(2).padStart(9, '0')].map((bit, i) => (bit === '1' ? 'rwx'[i % 3] : '-')).join('')}`;

export class RecordingTransport implements Transport {
  readonly calls: RecordedCall[] = [];
  readonly writes: { host: string; path: string; content: string; spec: FileSpec }[] = [];
  private readonly files = new Map<string, FakeFile>();

  /** Listings whose end line is left off: a session or host that stops mid-listing. */
  readonly cutShort: RegExp[] = [];

  constructor(private readonly rules: Rule[]) {}

  /** A file as the host would have it (mode as `ls -l` prints it, e.g. `-rw-r--r--`). */
  putFile(host: string, path: string, content: string, mode = '-rw-r--r--', uid = 0): void {
    this.files.set(`${host}:${path}`, { content, mode, uid });
  }

  file(host: string, path: string): string | undefined {
    return this.files.get(`${host}:${path}`)?.content;
  }

  /** The recorded command lines on `host` matching `pattern`. */
  ran(host: string, pattern: RegExp): string[] {
    return this.calls.filter((c) => c.host === host && pattern.test(c.command)).map((c) => c.command);
  }

  async run(host: StorageHostRef, argv: readonly string[], opts?: { input?: unknown }): Promise<ExecResult> {
    return this.answer(host, text(argv), opts?.input);
  }

  async runScript(host: StorageHostRef, script: ShellScript, opts?: { input?: unknown }): Promise<ExecResult> {
    return this.answer(host, script.text, opts?.input);
  }

  async runOk(host: StorageHostRef, command: Command, opts?: { input?: unknown }): Promise<ExecResult> {
    const result = this.answer(host, text(command), opts?.input);
    if (result.code !== 0) throw new Error(`${host.name}: ${text(command)} exited with ${result.code}: ${result.stderr}`);
    return result;
  }

  async stream(host: StorageHostRef, command: Command): Promise<ExecStreamHandle> {
    throw new Error(`RecordingTransport does not stream (${host.name}: ${text(command)})`);
  }

  async readFile(host: StorageHostRef, path: string): Promise<FileFacts> {
    this.calls.push({ host: host.name, command: `readFile ${path}` });
    const file = this.files.get(`${host.name}:${path}`);
    return file ? { exists: true, content: file.content, mode: file.mode, uid: file.uid, gid: 0 } : { exists: false, content: '' };
  }

  async ensureFile(host: StorageHostRef, path: string, content: string, spec: FileSpec & { uid: number }, current?: FileFacts): Promise<FileWrite> {
    const now = current ?? (await this.readFile(host, path));
    if (now.exists && now.content === content && now.uid === spec.uid && modeBits(now.mode) === parseInt(spec.mode, 8)) return { wrote: false, fixes: [] };
    this.calls.push({ host: host.name, command: `ensureFile ${path}` });
    this.record(host, path, content, spec);
    return { wrote: true, fixes: [] };
  }

  async writeFile(host: StorageHostRef, path: string, content: string, spec: FileSpec & { uid: number }): Promise<void> {
    this.calls.push({ host: host.name, command: `writeFile ${path}` });
    this.record(host, path, content, spec);
  }

  private record(host: StorageHostRef, path: string, content: string, spec: FileSpec & { uid: number }): void {
    this.writes.push({ host: host.name, path, content, spec });
    this.files.set(`${host.name}:${path}`, { content, mode: lsMode(spec.mode), uid: spec.uid });
  }

  async disconnect(host: StorageHostRef): Promise<void> {
    this.calls.push({ host: host.name, command: `disconnect ${host.address}` });
  }

  async stopProcessGroup(host: StorageHostRef, pgid: number): Promise<void> {
    this.calls.push({ host: host.name, command: `stopProcessGroup ${pgid}` });
  }

  private answer(host: StorageHostRef, command: string, input: unknown): ExecResult {
    // A listing with an end line (core/listing-end.ts): the rules answer the listing's own command
    // line (and are recorded as such), and the end line is added as the remote shell would.
    const listing = END_MARKED.exec(command);
    if (listing) {
      const result = this.answer(host, listing[1]!, input);
      if (this.cutShort.some((p) => p.test(listing[1]!))) return result;
      return { ...result, stdout: `${result.stdout}\n${listing[2]} ${result.code}\n` };
    }
    this.calls.push({ host: host.name, command, ...(typeof input === 'string' ? { input } : {}) });
    const rule = this.rules.find((r) => r.match.test(command));
    if (!rule) throw new Error(`RecordingTransport: no rule answers ${host.name}: ${command}`);
    return { stdout: '', stderr: '', code: 0, durationMs: 0, ...rule.reply };
  }
}
