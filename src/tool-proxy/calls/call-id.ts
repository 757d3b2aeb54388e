/** Call ids in hermes-livekit's form: `tc_` + 12 hex digits, from the platform's CSPRNG. */

const POOL_CALLS = 256;
const BYTES_PER_ID = 6;
let pool = new Uint8Array(0);
let offset = 0;

export function newCallId(): string {
  if (offset + BYTES_PER_ID > pool.length) {
    pool = crypto.getRandomValues(new Uint8Array(POOL_CALLS * BYTES_PER_ID));
    offset = 0;
  }
  let id = 'tc_';
  for (let i = 0; i < BYTES_PER_ID; i++)
    id += (pool[offset + i] as number).toString(16).padStart(2, '0');
  offset += BYTES_PER_ID;
  return id;
}
