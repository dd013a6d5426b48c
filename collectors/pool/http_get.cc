#include "collectors/pool/http_get.h"

#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cctype>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "base/build_info.h"

namespace tacho::collectors::pool {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

// How often a wait looks at the cancellation flag.
constexpr auto kPollInterval = std::chrono::milliseconds(50);
// getaddrinfo cannot be interrupted: a lookup that outlives its deadline finishes on its own
// detached thread. This many may be outstanding at once before new lookups fail fast.
constexpr int kMaxPendingLookups = 8;
std::atomic<int> g_pending_lookups{0};

bool Cancelled(const HttpGetRequest& r) {
  return r.cancelled != nullptr && r.cancelled->load(std::memory_order_relaxed);
}

struct Lookup {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  int rc = 0;
  std::vector<tcp::endpoint> endpoints;
};

// Name resolution bounded by the deadline (a hung DNS server must not hold the collection past
// it). IP literals are not looked up.
Expected<std::vector<tcp::endpoint>> Resolve(const HttpGetRequest& r) {
  const std::uint16_t port = static_cast<std::uint16_t>(std::stoi(r.url.port));
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(r.url.host, ec);
  if (!ec) return std::vector<tcp::endpoint>{tcp::endpoint(address, port)};

  if (g_pending_lookups.load() >= kMaxPendingLookups) {
    return Status::Error("resolving " + r.url.host + ": too many earlier lookups still pending");
  }
  auto lookup = std::make_shared<Lookup>();
  ++g_pending_lookups;
  try {
    std::thread([lookup, host = r.url.host, port] {
      addrinfo hints{};
      hints.ai_family = AF_UNSPEC;
      hints.ai_socktype = SOCK_STREAM;
      hints.ai_flags = AI_ADDRCONFIG;
      addrinfo* result = nullptr;
      const int rc = getaddrinfo(host.c_str(), nullptr, &hints, &result);
      std::vector<tcp::endpoint> endpoints;
      for (addrinfo* ai = result; rc == 0 && ai != nullptr; ai = ai->ai_next) {
        tcp::endpoint ep;
        if (ai->ai_addrlen > ep.capacity()) continue;
        std::memcpy(ep.data(), ai->ai_addr, ai->ai_addrlen);
        ep.resize(ai->ai_addrlen);
        ep.port(port);
        endpoints.push_back(ep);
      }
      if (result != nullptr) freeaddrinfo(result);
      {
        std::lock_guard<std::mutex> lock(lookup->mu);
        lookup->rc = rc;
        lookup->endpoints = std::move(endpoints);
        lookup->done = true;
      }
      lookup->cv.notify_all();
      --g_pending_lookups;
    }).detach();
  } catch (const std::exception& e) {
    --g_pending_lookups;
    return Status::Error("resolving " + r.url.host + ": " + e.what());
  }
  std::unique_lock<std::mutex> lock(lookup->mu);
  while (!lookup->done) {
    if (Cancelled(r)) return Status::Error("cancelled while resolving " + r.url.host);
    const auto now = Clock::now();
    if (now >= r.deadline) return Status::Error("timed out resolving " + r.url.host);
    lookup->cv.wait_until(lock, std::min(r.deadline, now + kPollInterval));
  }
  if (lookup->rc != 0) {
    return Status::Error("resolving " + r.url.host + ": " + gai_strerror(lookup->rc));
  }
  if (lookup->endpoints.empty()) {
    return Status::Error("resolving " + r.url.host + ": no addresses");
  }
  return std::move(lookup->endpoints);
}

std::string Describe(const boost::system::error_code& ec) {
  if (ec == beast::error::timeout) return "timed out";
  if (ec == asio::error::operation_aborted) return "cancelled";
  return ec.message();
}

// Runs `io` until `done`, looking at the cancellation flag between handlers; on cancellation
// `abort` closes the socket so the pending operation completes with an error.
template <class Abort>
void Wait(asio::io_context& io, const bool& done, const HttpGetRequest& r, Abort abort) {
  bool aborted = false;
  while (!done) {
    if (io.stopped()) io.restart();
    io.run_one_for(kPollInterval);
    if (!done && !aborted && Cancelled(r)) {
      aborted = true;
      abort();
    }
  }
}

class Exchange {
 public:
  explicit Exchange(const HttpGetRequest& request)
      : r_(request), ssl_ctx_(ssl::context::tls_client) {}

  Expected<HttpGetResponse> Run(const std::vector<tcp::endpoint>& endpoints) {
    const std::string where = r_.url.host + ":" + r_.url.port;
    if (r_.url.scheme == "https") {
      if (Status s = SetUpTls(); !s.ok()) return s;
    } else {
      plain_.emplace(io_);
    }
    Lowest().expires_at(r_.deadline);

    boost::system::error_code ec;
    bool done = false;
    Lowest().async_connect(endpoints,
                           [&](const boost::system::error_code& e, const tcp::endpoint&) {
                             ec = e;
                             done = true;
                           });
    Wait(io_, done, r_, [this] { Abort(); });
    if (ec) return Status::Error("connecting to " + where + ": " + Describe(ec));

    if (tls_) {
      done = false;
      tls_->async_handshake(ssl::stream_base::client, [&](const boost::system::error_code& e) {
        ec = e;
        done = true;
      });
      Wait(io_, done, r_, [this] { Abort(); });
      if (ec) return Status::Error("TLS handshake with " + where + ": " + TlsError(ec));
    }

    http::request<http::empty_body> req{http::verb::get, r_.url.target, 11};
    const bool default_port = (r_.url.scheme == "https" && r_.url.port == "443") ||
                              (r_.url.scheme == "http" && r_.url.port == "80");
    const std::string host =
        r_.url.host.find(':') != std::string::npos ? "[" + r_.url.host + "]" : r_.url.host;
    req.set(http::field::host, default_port ? host : host + ":" + r_.url.port);
    req.set(http::field::user_agent, std::string("tacho/") + kVersion);
    req.set(http::field::accept, "text/plain;version=0.0.4;q=1.0,*/*;q=0.1");
    req.set(http::field::accept_encoding, "identity");
    req.set(http::field::connection, "close");
    for (const auto& [name, value] : r_.headers) req.set(name, value);

    done = false;
    auto on_write = [&](const boost::system::error_code& e, std::size_t) {
      ec = e;
      done = true;
    };
    if (tls_) {
      http::async_write(*tls_, req, on_write);
    } else {
      http::async_write(*plain_, req, on_write);
    }
    Wait(io_, done, r_, [this] { Abort(); });
    if (ec) return Status::Error("sending the request to " + where + ": " + Describe(ec));

    http::response_parser<http::string_body> parser;
    parser.header_limit(64 * 1024);
    parser.body_limit(r_.body_limit);
    beast::flat_buffer buffer;
    done = false;
    auto on_read = [&](const boost::system::error_code& e, std::size_t) {
      ec = e;
      done = true;
    };
    if (tls_) {
      http::async_read(*tls_, buffer, parser, on_read);
    } else {
      http::async_read(*plain_, buffer, parser, on_read);
    }
    Wait(io_, done, r_, [this] { Abort(); });
    if (ec == http::error::body_limit) {
      return Status::Error("the response body from " + where + " exceeds the limit of " +
                           std::to_string(r_.body_limit) + " bytes");
    }
    // A TLS peer that closes without close_notify after a complete response is common and harmless.
    if (ec && !(ec == ssl::error::stream_truncated && parser.is_done())) {
      return Status::Error("reading the response from " + where + ": " + Describe(ec));
    }
    auto& res = parser.get();
    const int status = static_cast<int>(res.result_int());
    if (status < 200 || status > 299) {
      std::string message = "HTTP " + std::to_string(status);
      if (!res.reason().empty()) message += " " + std::string(res.reason());
      if (status == 401 || status == 403) message += " (check bearer_token)";
      if (status >= 300 && status < 400) {
        if (auto it = res.find(http::field::location); it != res.end()) {
          message += " (redirects are not followed; Location: " +
                     std::string(it->value().substr(0, it->value().find('?'))) + ")";
        }
      }
      return Status::Error(message);
    }
    if (auto it = res.find(http::field::content_encoding); it != res.end()) {
      const std::string_view encoding = it->value();
      if (!encoding.empty() && !beast::iequals(encoding, "identity")) {
        return Status::Error(
            "the response is compressed (Content-Encoding: " + std::string(encoding.substr(0, 32)) +
            ") although identity was requested");
      }
    }
    HttpGetResponse out;
    out.status = status;
    if (auto it = res.find(http::field::content_type); it != res.end()) {
      out.content_type = std::string(it->value());
    }
    out.body = std::move(res.body());
    return out;
  }

 private:
  beast::tcp_stream& Lowest() { return tls_ ? beast::get_lowest_layer(*tls_) : *plain_; }

  void Abort() {
    beast::error_code ignored;
    Lowest().socket().close(ignored);
  }

  Status SetUpTls() {
    boost::system::error_code ec;
    ssl_ctx_.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                             ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                             ssl::context::no_tlsv1_1,
                         ec);
    ssl_ctx_.set_verify_mode(ssl::verify_peer, ec);
    if (r_.ca_file.empty()) {
      ssl_ctx_.set_default_verify_paths(ec);
      if (ec) return Status::Error("cannot load the system CA certificates: " + ec.message());
    } else {
      ssl_ctx_.load_verify_file(r_.ca_file, ec);
      if (ec) return Status::Error("cannot load ca_file " + r_.ca_file + ": " + ec.message());
    }
    tls_.emplace(io_, ssl_ctx_);
    SSL* ssl = tls_->native_handle();
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
    boost::system::error_code not_ip;
    asio::ip::make_address(r_.url.host, not_ip);
    if (!not_ip) {
      // An IP literal: checked against the certificate's IP SANs; no SNI (RFC 6066).
      if (X509_VERIFY_PARAM_set1_ip_asc(param, r_.url.host.c_str()) != 1) {
        return Status::Error("cannot set the expected IP address for verification");
      }
    } else {
      X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      if (X509_VERIFY_PARAM_set1_host(param, r_.url.host.c_str(), 0) != 1 ||
          SSL_set_tlsext_host_name(ssl, r_.url.host.c_str()) != 1) {
        return Status::Error("cannot set the expected host name for verification");
      }
    }
    return Status::Ok();
  }

  // "certificate verify failed: self-signed certificate" rather than OpenSSL's bare reason.
  std::string TlsError(const boost::system::error_code& ec) {
    if (ec == beast::error::timeout) return "timed out";
    if (ec.category() == asio::error::get_ssl_category() &&
        ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == SSL_R_CERTIFICATE_VERIFY_FAILED) {
      const long result = SSL_get_verify_result(tls_->native_handle());
      return std::string("certificate verify failed: ") + X509_verify_cert_error_string(result);
    }
    return Describe(ec);
  }

  const HttpGetRequest& r_;
  asio::io_context io_;
  ssl::context ssl_ctx_;
  std::optional<beast::tcp_stream> plain_;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls_;
};

}  // namespace

Expected<HttpGetResponse> HttpGet(const HttpGetRequest& request) {
  const std::string url = request.url.ForMessages();
  try {
    if (Clock::now() >= request.deadline) return Status::Error("GET " + url + ": no time left");
    auto endpoints = Resolve(request);
    if (!endpoints.ok()) return Status::Error("GET " + url + ": " + endpoints.error().message());
    Exchange exchange(request);
    auto response = exchange.Run(*endpoints);
    if (!response.ok()) return Status::Error("GET " + url + ": " + response.error().message());
    return response;
  } catch (const std::exception& e) {
    return Status::Error("GET " + url + ": " + e.what());
  }
}

}  // namespace tacho::collectors::pool
