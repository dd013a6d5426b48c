// http:// and https:// URLs of the endpoints tacho talks to (webhooks, Alertmanager, an
// application's metrics), parsed once at configuration time.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace tacho::base {

// "https://metrics.internal:8443/actuator/prometheus?x=1" -> https, host, "8443", target.
struct Url {
  std::string scheme;  // "http" or "https"
  std::string host;    // without brackets for IPv6
  std::string port;    // 1-65535; default 80 / 443
  std::string target;  // path and query, at least "/"

  // "https://host:8443/path" without the query (which may carry a secret), for messages.
  std::string ForMessages() const;
};

// Rejects other schemes, user:password@ (the message ends "; use <credentials_hint>" when one
// is given), a missing host, a bad or out-of-range port, and spaces or control characters in
// the path.
Expected<Url> ParseUrl(std::string_view text, std::string_view credentials_hint = {});

}  // namespace tacho::base
