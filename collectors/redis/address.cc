#include "collectors/redis/address.h"

#include <charconv>

namespace tacho::collectors::redis {

std::string Address::ToString() const {
  if (is_unix()) return socket_path;
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

Expected<Address, std::string> ParseAddress(std::string_view text) {
  Address address;
  if (text.empty()) return std::string("address must not be empty");
  if (text.front() == '/') {
    address.socket_path = std::string(text);
    return address;
  }
  std::string_view host;
  std::string_view port;
  if (text.front() == '[') {
    std::size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return std::string("expected [ipv6]:port, host:port or an absolute unix socket path");
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    std::size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      return std::string("missing port: expected host:port or an absolute unix socket path");
    }
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      return std::string("an IPv6 address needs brackets: [::1]:6379");
    }
  }
  if (host.empty()) return std::string("missing host before the port");
  int value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc() || end != port.data() + port.size() || value < 1 || value > 65535) {
    return "invalid port \"" + std::string(port) + "\": expected 1-65535";
  }
  address.host = std::string(host);
  address.port = value;
  return address;
}

}  // namespace tacho::collectors::redis
