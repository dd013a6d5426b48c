// A blocking HTTP/1.1 GET over http:// or https:// (Boost.Beast), bounded by a deadline, for
// collectors that read another program's endpoint.
//
// Beast and Asio SSL are included only by http_get.cc.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agent/status.h"

namespace tacho::collectors::pool {

// "https://metrics.internal:8443/actuator/prometheus?x=1" -> https, host, "8443", target.
struct HttpUrl {
  std::string scheme;  // "http" or "https"
  std::string host;    // without brackets for IPv6
  std::string port;    // default 80 / 443
  std::string target;  // path and query, at least "/"

  // "https://host:8443/path" without the query (which may carry a secret), for messages.
  std::string ForMessages() const;
};

// Rejects other schemes, user:password@ (use bearer_token), a missing host and a bad port.
Expected<HttpUrl> ParseHttpUrl(std::string_view text);

struct HttpGetRequest {
  HttpUrl url;
  // Sent as they are. Their values never appear in an error message.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string ca_file;  // https: PEM CA bundle; empty: the system's CA certificates
  // Bounds the whole exchange: name resolution, connect, TLS handshake, request and response.
  std::chrono::steady_clock::time_point deadline;
  // Polled while waiting; when it turns true the exchange is abandoned (agent stopping).
  const std::atomic<bool>* cancelled = nullptr;
  std::size_t body_limit = std::size_t{16} << 20;
};

struct HttpGetResponse {
  int status = 0;
  std::string content_type;
  std::string body;
};

// Performs one GET with `Accept-Encoding: identity` and `Connection: close`; chunked responses
// are decoded. HTTPS verifies the certificate chain and the host name (or IP address). Errors
// (never throws): no response, a body over the limit, a compressed body, and any status outside
// 2xx ("HTTP 503 Service Unavailable"). Blocks the calling thread until done or the deadline.
Expected<HttpGetResponse> HttpGet(const HttpGetRequest& request);

}  // namespace tacho::collectors::pool
