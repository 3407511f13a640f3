/** Stopping a child process we started: SIGTERM, wait, SIGKILL; and never leaving it behind. */
import type { ChildProcess } from 'node:child_process';

export function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** Waits for the child to exit, up to `timeoutMs`; true when it did. */
export function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (hasExited(child)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.off('exit', onExit);
      resolve(false);
    }, timeoutMs);
    const onExit = () => {
      clearTimeout(timer);
      resolve(true);
    };
    child.once('exit', onExit);
  });
}

/**
 * A `stop(timeoutMs)` for the child: SIGTERM, SIGKILL after `timeoutMs` (default 10 s); idempotent.
 * Until it is called, the child is SIGKILLed if this process exits.
 */
export function stopper(child: ChildProcess): (timeoutMs?: number) => Promise<void> {
  const killOnExit = () => {
    if (!hasExited(child)) child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  let stopping: Promise<void> | undefined;
  return (timeoutMs = 10_000) => {
    stopping ??= (async () => {
      if (!hasExited(child)) {
        child.kill('SIGTERM');
        if (!(await waitForExit(child, timeoutMs))) {
          child.kill('SIGKILL');
          await waitForExit(child, 5_000);
        }
      }
      process.off('exit', killOnExit);
    })();
    return stopping;
  };
}
