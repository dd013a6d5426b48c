// tacho's one HTTP(S) client (Boost.Beast): webhook and Alertmanager delivery, and the app_pool
// collector's scrape of an application's Prometheus endpoint.
//
// One request per connection (`Connection: close`), HTTP/1.1, chunked responses decoded. Its TLS
// policy holds for every caller:
//   - TLS 1.2 or later; the certificate chain is always verified, against the system's CA
//     certificates or `ca_file`;
//   - a host name is checked against the certificate's DNS names (no partial wildcards) and sent
//     as SNI; an IP literal is checked against its IP addresses and never sent as SNI (RFC 6066);
//   - redirects are never followed: a 3xx is an "http_status" failure naming its Location.
// Header values, bodies, the query string and URL credentials never appear in `error`.
//
// Beast and Asio SSL are included only by http_client.cc.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "base/url.h"

namespace boost::asio {
class io_context;
}

namespace tacho::base {

enum class HttpMethod { kGet, kPost };

struct HttpRequest {
  HttpMethod method = HttpMethod::kGet;
  Url url;
  // Sent after the client's own (Host, User-Agent "tacho/<version>", Connection, Content-Type,
  // Accept-Encoding), replacing one of the same name.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;          // POST only
  std::string content_type;  // POST: the body's Content-Type
  std::string ca_file;       // https: PEM CA bundle; empty: the system's CA certificates
  // Bounds the whole exchange: name resolution, connect, TLS handshake, request and response.
  // Required.
  std::chrono::steady_clock::time_point deadline;
  // Polled every 50 ms while waiting; when it turns true the exchange is abandoned ("cancelled").
  const std::atomic<bool>* cancelled = nullptr;
  // A response body longer than this fails with "too_large".
  std::size_t body_limit = std::size_t{1} << 20;
  // Sends `Accept-Encoding: identity`; a response with another Content-Encoding then fails with
  // "compressed" (the client never decodes one).
  bool identity_encoding = false;
};

struct HttpResponse {
  // The response's status; 0 when no complete response was received.
  int status = 0;
  // Empty: a 2xx response read in full. Otherwise why it failed: "timeout", "cancelled",
  // "connection" (resolution, connect, send or receive), "tls" (CA file, handshake,
  // verification), "too_large", "compressed", or "http_status" (a status outside 2xx).
  std::string reason;
  // With a failure: "GET https://host:8443/path: <what happened>", e.g. "...: HTTP 503 Service
  // Unavailable", "...: connecting to host:8443: timed out" or "...: HTTP 301 Moved Permanently
  // (redirects are not followed; Location: https://other/path)". Location without its query.
  std::string error;
  // These response headers, when a complete response was received.
  std::string retry_after;
  std::string content_type;
  std::string location;
  std::string body;  // at most the request's body_limit

  bool ok() const { return reason.empty(); }
};

// Starts one exchange on `io` (the caller's event loop) and calls `done` exactly once, from a
// handler run by `io` (never from within this call), no later than the deadline or the
// cancellation poll that notices `cancelled`. `io` must keep running until then; if it is
// destroyed first, `done` is never called. Never throws.
void HttpFetchAsync(boost::asio::io_context& io, HttpRequest request,
                    std::function<void(HttpResponse)> done);

// The same exchange on the calling thread (with an io_context of its own), returning at the
// deadline or soon after `cancelled` turns true, whichever is first. Never throws.
HttpResponse HttpFetch(HttpRequest request);

}  // namespace tacho::base
