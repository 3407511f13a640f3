/** The time-skipping test server for workflow tests (dev-only: @temporalio/testing is a devDependency). */
import { TestWorkflowEnvironment, type TimeSkippingTestWorkflowEnvironmentOptions } from '@temporalio/testing';
import { resolveTestServer } from '../../workers/temporal-binaries';

/**
 * A time-skipping TestWorkflowEnvironment running the resolved test server binary
 * (`existing-path`), or the SDK's downloaded one when none is installed locally.
 */
export async function createTestEnv(
  opts: TimeSkippingTestWorkflowEnvironmentOptions = {},
): Promise<TestWorkflowEnvironment> {
  const testServer = resolveTestServer();
  if (testServer === undefined || opts.server?.executable !== undefined) {
    return TestWorkflowEnvironment.createTimeSkipping(opts);
  }
  return TestWorkflowEnvironment.createTimeSkipping({
    ...opts,
    server: { ...opts.server, executable: { type: 'existing-path', path: testServer } },
  });
}
