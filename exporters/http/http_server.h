// tacho's one HTTP(S) server (Boost.Beast), running on the agent's event loop.
//
// Beast and Asio SSL are included only by http_server.cc; this header forward-declares the
// io_context so users do not pay for them.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"

namespace boost::asio {
class io_context;
}

namespace tacho::exporters {

struct HttpRequest {
  std::string method;                          // "GET", "HEAD", ...
  std::string path;                            // decoded path without the query, e.g. "/metrics"
  std::string query;                           // raw query string without '?', may be empty
  std::map<std::string, std::string> headers;  // lower-cased names
  std::string remote;                          // "ip:port" of the peer
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers = {};  // extra headers
};

// Runs on the event-loop thread. Must not block (no database, no disk waits).
using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

struct HttpServerOptions {
  std::string listen = "127.0.0.1:9478";  // "host:port", "[v6]:port"; port 0 picks a free one
  // TLS when both are set (PEM files).
  std::string tls_cert_file;
  std::string tls_key_file;
  // Basic auth when non-empty: user -> bcrypt hash ($2a$, $2b$, $2y$). Applies to every path.
  // Hashes are verified on one extra thread, never on the event loop; at most 4 verifications
  // wait at once and further unauthenticated requests get 429 with Retry-After. Successful
  // verifications are cached, so steady scrapes cost no bcrypt.
  std::map<std::string, std::string> basic_auth_users;
  std::size_t max_connections = 64;        // further connections are refused with 503 and closed
  std::size_t max_header_bytes = 8192;     // larger request heads get 431
  std::size_t max_body_bytes = 64 * 1024;  // larger bodies get 413
  std::chrono::milliseconds header_timeout{10000};  // whole request head must arrive in time
  std::chrono::milliseconds idle_timeout{60000};    // keep-alive connections idle this long close
};

// Counters the agent exports as tacho_http_* self-metrics.
struct HttpServerStats {
  std::uint64_t requests = 0;
  std::uint64_t auth_failures = 0;         // 401 and 429 answers
  std::uint64_t rejected_connections = 0;  // over max_connections
  std::uint64_t bad_requests = 0;          // parse errors, too large, timeouts
  std::size_t open_connections = 0;
};

// Thread-safety: all methods must be called from the event-loop thread (or before it runs).
class HttpServer {
 public:
  HttpServer(boost::asio::io_context& io, HttpServerOptions options);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Exact-path routes. GET and HEAD are served; other methods get 405. Unknown paths get 404.
  void Handle(std::string path, HttpHandler handler);

  // Loads TLS material, binds and starts accepting. Errors name the address or file.
  Status Start();
  // "host:port" actually bound (the real port when 0 was asked for). Valid after Start().
  std::string BoundAddress() const;
  std::uint16_t BoundPort() const;
  // Stops accepting and closes open connections. May block for one bcrypt verification
  // already running (under ~250 ms) when basic auth is on.
  void Stop();

  HttpServerStats Stats() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace tacho::exporters
