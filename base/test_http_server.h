// Test helpers for code that speaks HTTP(S) through base/http_client.h: a throwaway PKI made with
// the OpenSSL API, and a blocking one-request-per-connection server on 127.0.0.1. Built only with
// the tests (library tacho_base_test_http_server).
#pragma once

#include <openssl/types.h>

#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace tacho::base::testing {

// A self-signed CA and server certificates it signs, the CA in a PEM file under a temporary
// folder removed by the destructor.
class TestPki {
 public:
  TestPki();
  ~TestPki();
  TestPki(const TestPki&) = delete;
  TestPki& operator=(const TestPki&) = delete;

  std::string ca_file() const { return (dir_ / "ca.pem").string(); }

  // A server context with a certificate for `san` ("IP:127.0.0.1,DNS:localhost"), signed by the
  // CA. The caller owns the result (FakeEndpoint takes it).
  SSL_CTX* ServerContext(const std::string& san);

 private:
  std::filesystem::path dir_;
  EVP_PKEY* ca_key_ = nullptr;
  X509* ca_ = nullptr;
};

// A TCP socket listening on 127.0.0.1 at a free port (written to *port), backlog 16. Test
// failures are reported with EXPECT.
int ListenOnLoopback(int* port);

// An HTTP/1.1 server on 127.0.0.1, port 0, answering each connection's one request (header and
// Content-Length body) with what `respond` returns (the raw response), then closing it. With an
// SSL_CTX (owned from then on) it speaks TLS. With `silent` it never accepts: connections wait in
// the backlog, as with a stopped application.
class FakeEndpoint {
 public:
  using Responder = std::function<std::string(const std::string& request)>;

  explicit FakeEndpoint(Responder respond, SSL_CTX* tls = nullptr, bool silent = false);
  ~FakeEndpoint();
  FakeEndpoint(const FakeEndpoint&) = delete;
  FakeEndpoint& operator=(const FakeEndpoint&) = delete;

  int port() const { return port_; }
  // The latest request as received, header and body.
  std::string last_request() const;
  // The SNI host name of the latest completed TLS handshake; "" when the client sent none.
  std::string last_server_name() const;
  // Completed TLS handshakes (or accepted plain connections) so far.
  int connections() const;

  // "HTTP/1.1 200 OK" with `body`, its Content-Type and Content-Length.
  static std::string Ok(const std::string& body,
                        const std::string& content_type = "text/plain; version=0.0.4");

 private:
  void Serve();

  Responder respond_;
  SSL_CTX* tls_;
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
  mutable std::mutex mu_;
  std::string last_request_;
  std::string last_server_name_;
  int connections_ = 0;
};

}  // namespace tacho::base::testing
