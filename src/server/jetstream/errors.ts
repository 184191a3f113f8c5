/**
 * JetStream API errors: the `{"error":{code, err_code, description}}` bodies
 * nats-server sends, with its codes (server/errors.json), so clients that
 * switch on `err_code` behave the same against the hub.
 */
export class JsApiError extends Error {
  /** HTTP-like status: 400, 404, 500, 503. */
  readonly status: number;
  /** nats-server's `err_code`. */
  readonly errCode: number;
  constructor(status: number, errCode: number, description: string) {
    super(description);
    this.status = status;
    this.errCode = errCode;
  }

  toJSON(): { code: number; err_code: number; description: string } {
    return { code: this.status, err_code: this.errCode, description: this.message };
  }
}

const e = (status: number, errCode: number, description: string) => (): JsApiError => new JsApiError(status, errCode, description);

/** The errors the subset can produce, by nats-server's names (minus the JS prefix). */
export const JsErr = {
  badRequest: e(400, 10003, 'bad request'),
  /** nats-server 2.9 says just this; later versions append the parser's message. */
  invalidJson: e(400, 10025, 'invalid JSON'),
  notEmptyRequest: e(400, 10038, 'expected an empty request payload'),
  streamNotFound: e(404, 10059, 'stream not found'),
  streamNameExist: e(400, 10058, 'stream name already in use with a different configuration'),
  streamMismatch: e(400, 10056, 'stream name in subject does not match request'),
  streamSubjectOverlap: e(400, 10065, 'subjects overlap with an existing stream'),
  streamInvalidConfig: (detail: string): JsApiError => new JsApiError(500, 10052, detail),
  streamReplicasNotSupported: e(500, 10074, 'replicas > 1 not supported in non-clustered mode'),
  streamNameSeparators: e(400, 10128, 'Stream name can not contain path separators'),
  streamMsgTooBig: e(400, 10054, 'message size exceeds maximum allowed'),
  streamStoreFailed: (detail: string): JsApiError => new JsApiError(503, 10077, detail),
  streamNotMatch: e(400, 10060, 'expected stream does not match'),
  wrongLastSequence: (seq: number): JsApiError => new JsApiError(400, 10071, `wrong last sequence: ${seq}`),
  wrongLastMsgId: (id: string): JsApiError => new JsApiError(400, 10070, `wrong last msg ID: ${id}`),
  noMessageFound: e(404, 10037, 'no message found'),
  sequenceNotFound: (seq: number): JsApiError => new JsApiError(400, 10043, `sequence ${seq} not found`),
  consumerNotFound: e(404, 10014, 'consumer not found'),
  consumerNameExist: e(400, 10013, 'consumer name already in use'),
  consumerAlreadyExists: e(400, 10148, 'consumer already exists'),
  consumerDoesNotExist: e(400, 10149, 'consumer does not exist'),
  consumerCreate: (detail: string): JsApiError => new JsApiError(500, 10012, detail),
  consumerDurableNameNotMatch: e(400, 10017, 'consumer name in subject does not match durable name in request'),
  consumerDurableAndNameMismatch: e(400, 10132, 'Consumer Durable and Name have to be equal if both are provided'),
  consumerBadDurableName: e(400, 10103, "durable name can not contain '.', '*', '>'"),
  consumerFilterMismatch: e(400, 10131, 'Consumer create request did not match filtered subject from create subject'),
  consumerFilterNotSubset: e(400, 10093, 'consumer filter subject is not a valid subset of the interest subjects'),
  consumerInvalidPolicy: (detail: string): JsApiError => new JsApiError(400, 10094, detail),
  consumerWqRequiresExplicitAck: e(400, 10098, 'workqueue stream requires explicit ack'),
  consumerWqMultipleUnfiltered: e(400, 10099, 'multiple non-filtered consumers not allowed on workqueue stream'),
  consumerWqNotUnique: e(400, 10100, 'filtered consumer not unique on workqueue stream'),
  consumerWqNotDeliverAll: e(400, 10101, 'consumer must be deliver all on workqueue stream'),
  consumerMaxDeliverBackoff: e(400, 10116, 'max deliver is required to be > length of backoff values'),
  consumerMaxWaitingNegative: e(400, 10087, 'consumer max waiting needs to be positive'),
  consumerDuplicateFilters: e(400, 10136, 'consumer cannot have both FilterSubject and FilterSubjects specified'),
  maximumConsumers: e(400, 10026, 'maximum consumers limit reached'),
  maximumStreams: e(400, 10027, 'maximum number of streams reached'),
  streamSealed: e(400, 10109, 'invalid operation on sealed stream'),
  /** nats-server's JSStreamRollupFailedError: `rollup not permitted`, or what was wrong with the header. */
  streamRollupFailed: (detail: string): JsApiError => new JsApiError(500, 10111, detail),
  storeFailure: (detail: string): JsApiError => new JsApiError(500, 10051, detail),
} as const;
