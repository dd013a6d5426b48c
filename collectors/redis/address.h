// Where a Redis server listens: "host:port", "[v6]:port", or a unix socket path.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace tacho::collectors::redis {

struct Address {
  std::string host;  // empty for a unix socket
  int port = 0;
  std::string socket_path;  // absolute path, for a unix socket

  bool is_unix() const { return !socket_path.empty(); }
  std::string ToString() const;
};

// "127.0.0.1:6379", "redis.internal:6380", "[::1]:6379", "/run/redis/redis.sock". A missing
// port, a port outside 1-65535 or a relative socket path is an error (its message says why).
Expected<Address, std::string> ParseAddress(std::string_view text);

}  // namespace tacho::collectors::redis
