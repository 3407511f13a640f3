/**
 * Every runbook step's duration, measured where the worker runs it: an activity interceptor, so a
 * runbook added later is measured without a line of its own. One observation per attempt (a retry
 * is a second step run), labelled by its activity type (the SDK adds it), workflow type and outcome.
 */
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { Metric, stepLabels, type StepOutcome } from '../core/metrics';

export const stepDurationInterceptor: ActivityInterceptorsFactory = (ctx) => ({
  inbound: {
    async execute(input, next) {
      const started = process.hrtime.bigint();
      let outcome: StepOutcome = 'completed';
      try {
        return await next(input);
      } catch (error) {
        // Cancelled: the workflow asked (or the worker is shutting down); anything else failed.
        outcome = ctx.cancellationSignal.aborted ? 'cancelled' : 'failed';
        throw error;
      } finally {
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        ctx.metricMeter
          .createHistogram(Metric.stepDuration, 'float', 's', 'Seconds each runbook step (activity attempt) took')
          .record(seconds, stepLabels(ctx.info.workflowType, outcome));
      }
    },
  },
});
