// A small asynchronous HTTP(S) POST client (Boost.Beast) for webhook and Alertmanager delivery.
//
// Beast and Asio SSL are included only by http_client.cc.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "base/url.h"

namespace boost::asio {
class io_context;
}

namespace tacho::base {

struct HttpPostRequest {
  Url url;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  std::chrono::milliseconds timeout{10000};  // the whole exchange
  std::string ca_file;                       // empty: the system's CA certificates
};

struct HttpPostResult {
  int status = 0;       // HTTP status; 0 when there was no response
  std::string reason;   // without a response: "timeout", "connection" or "tls"
  std::string error;    // human-readable detail
  std::string retry_after;  // the Retry-After header, if any
  std::string body;         // first 4 KiB of the response body
};

// Sends one POST on `io` (the caller's event loop) and calls `done` there exactly once. HTTPS
// verifies the certificate chain and the host name. Never throws.
void HttpPost(boost::asio::io_context& io, HttpPostRequest request,
              std::function<void(HttpPostResult)> done);

}  // namespace tacho::base
