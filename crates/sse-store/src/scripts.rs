//! The Lua scripts of the Redis backend. Each runs atomically ("Redis guarantees the script's
//! atomic execution ... no other script or Redis command will be executed while a script is
//! executing", EVAL docs), so every check-then-write below is race-free across processes.
//!
//! Every script takes the same three keys, which share the generation's hash tag:
//! KEYS[1] = log (stream), KEYS[2] = meta (hash), KEYS[3] = lease (string, value = epoch).

use redis::Script;

/// Shared helpers, prepended to each script.
///
/// `trim` records the newest id it removes in meta's `trimmed` field so a reader can tell that
/// its cursor fell behind. XTRIM only returns a count, so the ids come from the XRANGE of the
/// entries about to go (XRANGE and XTRIM MAXLEN both work from the oldest entry).
const PRELUDE: &str = r#"
local log, meta, lease = KEYS[1], KEYS[2], KEYS[3]
local function trim(max)
  local len = redis.call('XLEN', log)
  if len > max then
    local old = redis.call('XRANGE', log, '-', '+', 'COUNT', len - max)
    redis.call('XTRIM', log, 'MAXLEN', max)
    redis.call('HSET', meta, 'trimmed', old[#old][1])
  end
  return len
end
local function close(kind, data, ttl, max)
  local id = redis.call('XADD', log, '*', 'd', data, 't', kind)
  trim(max)
  redis.call('HSET', meta, 'state', 'done')
  redis.call('DEL', lease)
  redis.call('PEXPIRE', log, ttl)
  redis.call('PEXPIRE', meta, ttl)
  return id
end
local function owns(epoch)
  return redis.call('GET', lease) == epoch and redis.call('HGET', meta, 'state') == 'live'
end
"#;

/// ARGV: epoch, lease ms, live ttl ms, ttl ms, max_len.
/// Returns 0 = begun, 1 = exists and live, 2 = exists and finished. A live log whose lease key
/// expired is closed as interrupted first (its producer is gone), then reported finished.
const BEGIN: &str = r#"
if redis.call('EXISTS', log) == 1 or redis.call('EXISTS', meta) == 1 then
  if redis.call('HGET', meta, 'state') == 'live' then
    if redis.call('EXISTS', lease) == 1 then return 1 end
    close('interrupted', '', ARGV[4], tonumber(ARGV[5]))
  end
  return 2
end
redis.call('HSET', meta, 'epoch', ARGV[1], 'state', 'live', 'stop', '0')
redis.call('PEXPIRE', meta, ARGV[3])
redis.call('SET', lease, ARGV[1], 'PX', ARGV[2])
return 0
"#;

/// ARGV: epoch, max_len, live ttl ms, then per event: has-name ('1'/'0'), name, data.
/// Returns 0 when fenced (nothing written), else the array of new ids in order.
/// The keys' expiry is not refreshed here: BEGIN set meta's, RENEW refreshes both at every
/// renewal (lease / 3), and the log gets its own when this append created it (its length is then
/// what was just added). Two PEXPIREs per append were a third of the commands of a one-event
/// append.
const APPEND: &str = r#"
if not owns(ARGV[1]) then return 0 end
local ids = {}
local n = (#ARGV - 3) / 3
for k = 0, n - 1 do
  local i = 4 + 3 * k
  if ARGV[i] == '1' then
    ids[k + 1] = redis.call('XADD', log, '*', 'e', ARGV[i + 1], 'd', ARGV[i + 2])
  else
    ids[k + 1] = redis.call('XADD', log, '*', 'd', ARGV[i + 2])
  end
end
if trim(tonumber(ARGV[2])) == n then
  redis.call('PEXPIRE', log, ARGV[3])
end
return ids
"#;

/// ARGV: epoch, lease ms, live ttl ms. Returns -1 fenced, 0 continue, 1 stop requested.
const RENEW: &str = r#"
if not owns(ARGV[1]) then return -1 end
redis.call('PEXPIRE', lease, ARGV[2])
redis.call('PEXPIRE', meta, ARGV[3])
redis.call('PEXPIRE', log, ARGV[3])
if redis.call('HGET', meta, 'stop') == '1' then return 1 end
return 0
"#;

/// ARGV: epoch, terminal kind, data, ttl ms, max_len. Returns 0 when fenced, else the new id.
const FINISH: &str = r#"
if not owns(ARGV[1]) then return 0 end
return close(ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5]))
"#;

/// ARGV: channel, id. Returns 1 when the flag was set on a live generation, else 0.
/// PUBLISH from a script is delivered like any other (the keyless command is allowed in EVAL).
const STOP: &str = r#"
if redis.call('HGET', meta, 'state') ~= 'live' then return 0 end
redis.call('HSET', meta, 'stop', '1')
redis.call('PUBLISH', ARGV[1], ARGV[2])
return 1
"#;

/// ARGV: XRANGE start ('-' or '(<cursor>'), count, ttl ms, max_len, max bytes (the entries are
/// cut after the one whose field values bring the total to it, so the reply is bounded in bytes).
/// Returns {0} for an unknown id, else {1, trimmed or '', entries, live (1/0)}. When there is nothing after
/// the cursor, the log is live and its lease key has expired, the producer is gone: the log is
/// closed as interrupted in the same atomic step (so two readers cannot both close it, and a
/// producer renewing at that instant either wins before or is fenced after).
const READ: &str = r#"
local state = redis.call('HGET', meta, 'state')
if not state and redis.call('EXISTS', log) == 0 then return {0} end
local entries = redis.call('XRANGE', log, ARGV[1], '+', 'COUNT', ARGV[2])
if #entries == 0 and state == 'live' and redis.call('EXISTS', lease) == 0 then
  close('interrupted', '', ARGV[3], tonumber(ARGV[4]))
  entries = redis.call('XRANGE', log, ARGV[1], '+', 'COUNT', ARGV[2])
end
local size, limit = 0, tonumber(ARGV[5])
for i, entry in ipairs(entries) do
  local fields = entry[2]
  for j = 2, #fields, 2 do size = size + #fields[j] end
  if size >= limit then
    for k = #entries, i + 1, -1 do entries[k] = nil end
    break
  end
end
local live = 0
if redis.call('HGET', meta, 'state') == 'live' then live = 1 end
return {1, redis.call('HGET', meta, 'trimmed') or '', entries, live}
"#;

/// The compiled scripts. `Script` keeps the SHA1, so calls are EVALSHA, falling back to EVAL
/// once after a server restart empties the script cache (NOSCRIPT).
pub(crate) struct Scripts {
  pub begin: Script,
  pub append: Script,
  pub renew: Script,
  pub finish: Script,
  pub stop: Script,
  pub read: Script,
}

impl Scripts {
  pub fn new() -> Self {
    let with_prelude = |body: &str| Script::new(&format!("{PRELUDE}{body}"));
    Scripts {
      begin: with_prelude(BEGIN),
      append: with_prelude(APPEND),
      renew: with_prelude(RENEW),
      finish: with_prelude(FINISH),
      stop: with_prelude(STOP),
      read: with_prelude(READ),
    }
  }
}
