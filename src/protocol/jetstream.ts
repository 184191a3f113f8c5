/**
 * JetStream's wire vocabulary, shared by the hub (which serves the API
 * subset) and the client (which speaks it): header names and the subject
 * prefixes. The JSON shapes live with their users (server/jetstream/config.ts,
 * client/jetstream/types.ts).
 */

/** Headers JetStream reads on publish and writes on deliveries and status messages. */
export const JsHeader = {
  MSG_ID: 'Nats-Msg-Id',
  EXPECTED_STREAM: 'Nats-Expected-Stream',
  EXPECTED_LAST_SEQUENCE: 'Nats-Expected-Last-Sequence',
  EXPECTED_LAST_MSG_ID: 'Nats-Expected-Last-Msg-Id',
  EXPECTED_LAST_SUBJECT_SEQUENCE: 'Nats-Expected-Last-Subject-Sequence',
  EXPECTED_LAST_SUBJECT_SEQUENCE_SUBJECT: 'Nats-Expected-Last-Subject-Sequence-Subject',
  /** On 408/409 statuses: what the pull request was still owed. */
  PENDING_MESSAGES: 'Nats-Pending-Messages',
  PENDING_BYTES: 'Nats-Pending-Bytes',
  /** On 100 Idle Heartbeat: the consumer's last delivery. */
  LAST_CONSUMER: 'Nats-Last-Consumer',
  LAST_STREAM: 'Nats-Last-Stream',
  /** On a headers_only delivery: the size of the payload left out. */
  MSG_SIZE: 'Nats-Msg-Size',
  /** On a publish: `sub` keeps only this message on its subject, `all` only this message in the stream. */
  ROLLUP: 'Nats-Rollup',
  /** On a direct get's answer: where the message is stored. */
  STREAM: 'Nats-Stream',
  SEQUENCE: 'Nats-Sequence',
  TIME_STAMP: 'Nats-Time-Stamp',
  SUBJECT: 'Nats-Subject',
} as const;

/** The values of Nats-Rollup. */
export const Rollup = { SUBJECT: 'sub', ALL: 'all' } as const;

/** Where the API and acks live (without a domain). */
export const JS_API_PREFIX = '$JS.API';
export const JS_ACK_PREFIX = '$JS.ACK';
