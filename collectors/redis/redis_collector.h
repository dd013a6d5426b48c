// The Redis collector: INFO, CONFIG, LATENCY HISTOGRAM, SLOWLOG and CLIENT LIST of one server
// over one persistent connection, exported under redis_exporter's names where the meaning is
// the same. See README.md.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "agent/collector.h"
#include "collectors/redis/address.h"

namespace tacho::collectors::redis {

// The kind "redis" with its schema and factory, for RegisterBuiltinCollectors().
agent::CollectorKind RedisCollectorKind();

// What the factory makes of a [[collectors.redis]] table (exposed for tests).
struct RedisOptions {
  std::string instance_name;
  Address address;
  std::string username;  // empty: AUTH <password> (the default user)
  std::string password;  // empty: no AUTH
  std::chrono::milliseconds connect_timeout{5000};
  std::size_t top_k = 20;
  std::size_t commands_max = 200;
  bool slowlog = true;
  bool client_list = true;
  std::size_t clients_max_for_list = 1000;
  std::size_t clients_max_pools = 50;
  // Reconnect backoff after a failure (tests shorten it).
  std::chrono::milliseconds backoff_initial{1000};
  std::chrono::milliseconds backoff_max{60000};
};

std::unique_ptr<agent::Collector> NewRedisCollector(RedisOptions options);

// The message for a failed AUTH; never contains the password.
//   ("alice", "WRONGPASS invalid username-password pair or user is disabled.")
//     -> "authentication failed for user 'alice' (WRONGPASS)"
std::string AuthFailureMessage(const std::string& username, const std::string& error);

}  // namespace tacho::collectors::redis
