// A RoundTripper that records the SOAP body of each call instead of sending it, for the request
// body tests, and answers with what the test gives.
import { buildRequest, type MethodCall, type RoundTripper } from '../../activities/vsphere/vim25/soap';

export class RecordingRoundTripper implements RoundTripper {
  readonly calls: { call: MethodCall; body: string }[] = [];

  constructor(private readonly answer: (call: MethodCall) => unknown = () => undefined) {}

  async roundTrip(call: MethodCall): Promise<unknown> {
    this.calls.push({ call, body: buildRequest(call) });
    return this.answer(call);
  }

  get lastBody(): string {
    const last = this.calls.at(-1);
    if (!last) throw new Error('no call was made');
    return last.body;
  }
}
