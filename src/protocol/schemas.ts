/**
 * Schemas on the wire: what the hub tells a publisher whose event breaks the
 * schema of its subject, and what it answers a client asking for schemas.
 * Shared by the hub (server/schema-*.ts), our client (client/schemas.ts) and
 * the CLI, so the texts and numbers are written once.
 *
 *   PUB orders.created …  ──► -ERR 'Schema Violation for Publish to "orders.created": <reason>'
 *   request (reply set)   ──► also HMSG <reply> … NATS/1.0 400 Schema Violation
 *                                                 Netemitter-Schema-Error: <reason>
 *   JetStream publish     ──► PubAck {"error":{"code":400,"err_code":19001,"description":"schema violation: <reason>"}}
 *   action deadLetter     ──► <deadLetterPrefix>.schema.<subject>, original headers
 *                             + Netemitter-Schema, Netemitter-Schema-Error
 *
 * 19001 is netemitter's own JetStream error code, outside nats-server's
 * 10xxx range.
 */

/** What the hub does with an event that breaks its schema. */
export const SchemaAction = {
  /** Refused: -ERR to the publisher (and the 400 status / error PubAck to a request). The default. */
  REJECT: 'reject',
  /** Counted and logged (rate-limited); the publisher is told nothing. */
  DROP: 'drop',
  /** Refused as `reject`, and republished to `<deadLetterPrefix>.schema.<subject>`. */
  DEAD_LETTER: 'deadLetter',
} as const;
export type SchemaAction = (typeof SchemaAction)[keyof typeof SchemaAction];

export const SCHEMA_ACTIONS: readonly SchemaAction[] = Object.values(SchemaAction);

/** A request for every rule the hub enforces (answer: SchemaList). */
export const SCHEMA_LIST_SUBJECT = '$NE.SCHEMA.LIST';
/** `$NE.SCHEMA.GET.<subject>`: the rule that applies to one subject (answer: SchemaLookup). */
export const SCHEMA_GET_PREFIX = '$NE.SCHEMA.GET.';

/** Header of a dead letter: the rule's name (its file name, or `inline#N`). */
export const SCHEMA_HEADER = 'Netemitter-Schema';
/** Header of a dead letter and of the 400 status: the reason, as in the -ERR. */
export const SCHEMA_ERROR_HEADER = 'Netemitter-Schema-Error';

/** The status a request gets when its payload breaks the schema. */
export const SCHEMA_VIOLATION_STATUS = 400;
export const SCHEMA_VIOLATION_DESCRIPTION = 'Schema Violation';
/** The JetStream err_code of an error PubAck for a schema violation. */
export const SCHEMA_VIOLATION_ERR_CODE = 19001;

/** Longest reason after the colon. */
export const MAX_SCHEMA_REASON = 200;
/** Deepest JSON accepted on a subject with a schema; deeper is a violation (never a stack overflow). */
export const MAX_JSON_DEPTH = 100;
/** The token after the dead-letter prefix: `<prefix>.schema.<subject>`. */
export const SCHEMA_DEAD_LETTER_TOKEN = 'schema';
/** The name of the Nth (from 1) rule whose schema is given inline rather than as a file. */
export const inlineSchemaName = (n: number): string => `inline#${n}`;

/**
 * A reason as the -ERR carries it: one line, at most MAX_SCHEMA_REASON
 * characters, no single quote (the -ERR text is quoted with them).
 */
export function shortReason(text: string): string {
  const line = text.replace(/[\r\n\t]+/g, ' ').replace(/'/g, '"').trim();
  return line.length <= MAX_SCHEMA_REASON ? line : line.slice(0, MAX_SCHEMA_REASON - 1) + '…';
}

/** The -ERR text (without the quotes) for a publish whose payload breaks the schema. */
export function schemaViolationText(subject: string, reason: string): string {
  return `Schema Violation for Publish to "${subject}": ${reason}`;
}

const VIOLATION = /^schema violation for publish to "([^"]*)": (.*)$/is;

/** The subject and reason of an -ERR text, or null for any other error. */
export function parseSchemaViolation(text: string): { subject: string; reason: string } | null {
  const m = VIOLATION.exec(text);
  return m === null ? null : { subject: m[1]!, reason: m[2]! };
}

/** The description of the error PubAck. */
export function schemaPubAckDescription(reason: string): string {
  return `schema violation: ${reason}`;
}

export function deadLetterSubject(prefix: string, subject: string): string {
  return `${prefix}.${SCHEMA_DEAD_LETTER_TOKEN}.${subject}`;
}

/**
 * Prefixes of the hub's own APIs: requests to the hub, not events. No rule
 * applies to them, whatever its subjects say, so a catch-all `>` rule breaks
 * neither JetStream acks nor the schema and presence requests. `$KV.` and `$O.`
 * stay checkable: a key-value put is an event.
 */
export const HUB_API_PREFIXES: readonly string[] = ['$JS.API.', '$JS.ACK.', '$JS.FC.', '$NE.', '$SYS.'];

/** Whether `subject` is one of the hub's own APIs (HUB_API_PREFIXES): never checked against a schema. */
export function isHubApiSubject(subject: string): boolean {
  if (subject.charCodeAt(0) !== 0x24 /* $ */) return false;
  for (const p of HUB_API_PREFIXES) if (subject.startsWith(p)) return true;
  return false;
}

/** A JSON Schema document as it travels: an object (or a boolean schema). */
export type JsonSchema = { [key: string]: unknown } | boolean;

/**
 * One rule, as the hub enforces it and sends it to clients: its root schema
 * and every schema it references (each with its `$id`), so a client compiles
 * it with no file access. Ids never reveal the hub's file paths.
 */
export interface SchemaRuleInfo {
  /** The schema file's name (relative to the config's directory), or `inline#N`. */
  name: string;
  subjects: string[];
  action: SchemaAction;
  /** The root schema, its `$id` set. */
  schema: JsonSchema;
  /** The schemas it references through `$ref` to other files, each with its `$id`. */
  refs: JsonSchema[];
}

/** The answer to SCHEMA_LIST_SUBJECT. */
export interface SchemaList {
  /** Bumped at each reload; INFO carries it as `netemitter_schemas`. */
  generation: number;
  rules: SchemaRuleInfo[];
}

/** The answer to `SCHEMA_GET_PREFIX + subject`: the first rule that applies, or null. */
export interface SchemaLookup {
  generation: number;
  subject: string;
  rule: SchemaRuleInfo | null;
}

/** INFO's field with the hub's schema generation (absent: the server enforces no schemas). */
export const INFO_SCHEMAS_FIELD = 'netemitter_schemas';
/** The feature name in INFO's `netemitter` list. */
export const SCHEMAS_FEATURE = 'schemas';
