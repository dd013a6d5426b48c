// CLIENT LIST, grouped by client name: an application's pool of Redis connections as the
// server sees it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "agent/pool_model.h"

namespace tacho::collectors::redis {

struct ClientInfo {
  std::string name;  // CLIENT SETNAME; empty when unset
  std::int64_t age_seconds = 0;
  std::int64_t idle_seconds = 0;
  std::string flags;  // N normal, S replica, M master, b blocked, P pubsub, x in MULTI, ...
};

// One line per connection, space-separated key=value fields (names cannot hold spaces):
//
//   id=243 addr=127.0.0.1:55912 ... name=billing-api age=3 idle=1 flags=N db=0 ... cmd=ping ...
//
// Lines without an id= field are skipped; unknown fields are ignored.
std::vector<ClientInfo> ParseClientList(std::string_view text);

struct ClientPool {
  std::string name;
  std::uint64_t connections = 0;
  // Ran a command within the last second (idle 0), or is blocked in one (BLPOP, WAIT, ...).
  std::uint64_t active = 0;
  std::uint64_t blocked = 0;
  std::int64_t max_idle_seconds = 0;
  // Age of the newest connection: small and steady means the pool keeps reconnecting.
  std::int64_t min_age_seconds = 0;
};

struct ClientPools {
  std::vector<ClientPool> pools;  // by name
  std::size_t dropped = 0;        // pools left out by max_pools
};

// Groups by name; keeps the `max_pools` largest pools (then by name), sorted by name.
ClientPools GroupClientPools(const std::vector<ClientInfo>& clients, std::size_t max_pools);

// A client name's connections as a pool of the pool model (kind "redis", pool
// "client/<name>"): in use = active, idle = the rest, held = all. A client-side pool's size is
// not visible from the server, so it has no ratio.
agent::PoolSample ClientPoolSample(const ClientPool& pool);

}  // namespace tacho::collectors::redis
