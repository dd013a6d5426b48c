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

#include "base/status.h"
#include "base/url.h"

namespace tacho::collectors::pool {

struct HttpGetRequest {
  base::Url url;
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
