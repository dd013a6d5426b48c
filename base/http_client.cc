#include "base/http_client.h"

#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>

#include "base/build_info.h"

namespace tacho::base {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using Endpoints = std::vector<tcp::endpoint>;

namespace {

constexpr auto kCancelPollInterval = std::chrono::milliseconds(50);
constexpr std::uint32_t kHeaderLimit = 64 * 1024;
// getaddrinfo cannot be interrupted: a lookup that outlives its exchange finishes on its own
// detached thread. This many may be outstanding at once before new lookups fail fast.
constexpr int kMaxPendingLookups = 8;
std::atomic<int> g_pending_lookups{0};

// Hands a lookup's result from its thread to the exchange, unless the exchange has given up.
struct LookupHandoff {
  std::mutex mu;
  std::function<void(int rc, Endpoints)> deliver;  // empty once the exchange is finished
};

// "certificate verify failed: self-signed certificate" rather than OpenSSL's bare reason.
std::string TlsError(const boost::system::error_code& ec, SSL* ssl) {
  if (ec.category() == asio::error::get_ssl_category() &&
      ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == SSL_R_CERTIFICATE_VERIFY_FAILED) {
    return std::string("certificate verify failed: ") +
           X509_verify_cert_error_string(SSL_get_verify_result(ssl));
  }
  return ec.message();
}

bool IsIpLiteral(const std::string& host) {
  boost::system::error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

class Exchange : public std::enable_shared_from_this<Exchange> {
 public:
  Exchange(asio::io_context& io, HttpRequest request, std::function<void(HttpResponse)> done)
      : io_(io),
        r_(std::move(request)),
        done_(std::move(done)),
        where_(r_.url.host + ":" + r_.url.port),
        deadline_(io),
        cancel_poll_(io),
        ssl_ctx_(ssl::context::tls_client) {}

  ~Exchange() { AbandonLookup(); }

  void Start() {
    try {
      StartOrThrow();
    } catch (const std::exception& e) {
      Fail("connection", stage_ + ": " + e.what());
    }
  }

 private:
  void StartOrThrow() {
    stage_ = "starting";
    if (Cancelled()) return Fail("cancelled", "cancelled before the request");
    if (Clock::now() >= r_.deadline) return Fail("timeout", "no time left");
    if (r_.url.scheme == "https") {
      if (std::string error = SetUpTls(); !error.empty()) return Fail("tls", error);
    } else {
      plain_.emplace(io_);
    }
    deadline_.expires_at(r_.deadline);
    deadline_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (ec) return;
      if (!self->finished_) self->Fail("timeout", self->stage_ + ": timed out");
      self->CloseSocket();  // also bounds the TLS shutdown after a response
    });
    if (r_.cancelled != nullptr) PollCancellation();
    Resolve();
  }

  bool Cancelled() const {
    return r_.cancelled != nullptr && r_.cancelled->load(std::memory_order_relaxed);
  }

  beast::tcp_stream& Lowest() { return tls_ ? beast::get_lowest_layer(*tls_) : *plain_; }

  void CloseSocket() {
    if (!tls_ && !plain_) return;
    beast::error_code ignored;
    Lowest().socket().close(ignored);
  }

  void PollCancellation() {
    cancel_poll_.expires_after(kCancelPollInterval);
    cancel_poll_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (ec || self->finished_) return;
      if (!self->Cancelled()) return self->PollCancellation();
      self->Fail("cancelled", self->stage_ + ": cancelled");
      self->CloseSocket();
    });
  }

  // Returns an error message, or "" when the TLS stream is ready to connect.
  std::string SetUpTls() {
    boost::system::error_code ec;
    ssl_ctx_.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                             ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                             ssl::context::no_tlsv1_1,
                         ec);
    ssl_ctx_.set_verify_mode(ssl::verify_peer, ec);
    if (r_.ca_file.empty()) {
      ssl_ctx_.set_default_verify_paths(ec);
      if (ec) return "cannot load the system CA certificates: " + ec.message();
    } else {
      ssl_ctx_.load_verify_file(r_.ca_file, ec);
      if (ec) return "cannot load ca_file " + r_.ca_file + ": " + ec.message();
    }
    tls_.emplace(io_, ssl_ctx_);
    SSL* ssl = tls_->native_handle();
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
    if (IsIpLiteral(r_.url.host)) {
      // Checked against the certificate's IP SANs; no SNI (RFC 6066 allows host names only).
      if (X509_VERIFY_PARAM_set1_ip_asc(param, r_.url.host.c_str()) != 1) {
        return "cannot set the expected IP address for verification";
      }
    } else {
      X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      if (X509_VERIFY_PARAM_set1_host(param, r_.url.host.c_str(), 0) != 1 ||
          SSL_set_tlsext_host_name(ssl, r_.url.host.c_str()) != 1) {
        return "cannot set the expected host name for verification";
      }
    }
    return "";
  }

  // Name resolution bounded by the deadline: a hung DNS server must not hold the exchange past
  // it. IP literals are not looked up.
  void Resolve() {
    const auto port = static_cast<std::uint16_t>(std::stoi(r_.url.port));
    stage_ = "resolving " + r_.url.host;
    boost::system::error_code not_ip;
    const auto address = asio::ip::make_address(r_.url.host, not_ip);
    if (!not_ip) return Connect({tcp::endpoint(address, port)});

    if (g_pending_lookups.load() >= kMaxPendingLookups) {
      return Fail("connection", stage_ + ": too many earlier lookups still pending");
    }
    lookup_ = std::make_shared<LookupHandoff>();
    lookup_->deliver = [&io = io_, weak = weak_from_this()](int rc, Endpoints endpoints) {
      asio::post(io, [weak, rc, endpoints = std::move(endpoints)]() mutable {
        auto self = weak.lock();
        if (!self || self->finished_) return;
        if (rc != 0) return self->Fail("connection", self->stage_ + ": " + gai_strerror(rc));
        if (endpoints.empty()) return self->Fail("connection", self->stage_ + ": no addresses");
        self->Connect(std::move(endpoints));
      });
    };
    ++g_pending_lookups;
    try {
      std::thread([lookup = lookup_, host = r_.url.host, port] {
        addrinfo hints{};
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        hints.ai_flags = AI_ADDRCONFIG;
        addrinfo* result = nullptr;
        const int rc = getaddrinfo(host.c_str(), nullptr, &hints, &result);
        Endpoints endpoints;
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
          if (lookup->deliver) lookup->deliver(rc, std::move(endpoints));
        }
        --g_pending_lookups;
      }).detach();
    } catch (const std::exception& e) {
      --g_pending_lookups;
      Fail("connection", stage_ + ": " + e.what());
    }
  }

  void AbandonLookup() {
    if (!lookup_) return;
    std::lock_guard<std::mutex> lock(lookup_->mu);
    lookup_->deliver = nullptr;
  }

  void Connect(const Endpoints& endpoints) {
    stage_ = "connecting to " + where_;
    Lowest().async_connect(
        endpoints,
        [self = shared_from_this()](const boost::system::error_code& ec, const tcp::endpoint&) {
          if (self->finished_) return;
          if (ec) return self->Fail("connection", self->stage_ + ": " + ec.message());
          self->Handshake();
        });
  }

  void Handshake() {
    if (!tls_) return Write();
    stage_ = "TLS handshake with " + where_;
    tls_->async_handshake(ssl::stream_base::client, [self = shared_from_this()](
                                                        const boost::system::error_code& ec) {
      if (self->finished_) return;
      if (ec) {
        return self->Fail("tls", self->stage_ + ": " + TlsError(ec, self->tls_->native_handle()));
      }
      self->Write();
    });
  }

  void Write() {
    stage_ = "sending the request to " + where_;
    const Url& u = r_.url;
    req_.method(r_.method == HttpMethod::kPost ? http::verb::post : http::verb::get);
    req_.target(u.target);
    req_.version(11);
    const bool default_port =
        (u.scheme == "https" && u.port == "443") || (u.scheme == "http" && u.port == "80");
    const std::string host = u.host.find(':') != std::string::npos ? "[" + u.host + "]" : u.host;
    req_.set(http::field::host, default_port ? host : host + ":" + u.port);
    req_.set(http::field::user_agent, std::string("tacho/") + kVersion);
    req_.set(http::field::connection, "close");
    if (r_.method == HttpMethod::kPost && !r_.content_type.empty()) {
      req_.set(http::field::content_type, r_.content_type);
    }
    if (r_.identity_encoding) req_.set(http::field::accept_encoding, "identity");
    for (const auto& [name, value] : r_.headers) req_.set(name, value);
    if (r_.method == HttpMethod::kPost) req_.body() = std::move(r_.body);
    req_.prepare_payload();

    auto on_write = [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
      if (self->finished_) return;
      if (ec) return self->Fail("connection", self->stage_ + ": " + ec.message());
      self->Read();
    };
    if (tls_) {
      http::async_write(*tls_, req_, on_write);
    } else {
      http::async_write(*plain_, req_, on_write);
    }
  }

  void Read() {
    stage_ = "reading the response from " + where_;
    parser_.header_limit(kHeaderLimit);
    parser_.body_limit(r_.body_limit);
    auto on_read = [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
      if (self->finished_) return;
      self->OnRead(ec);
    };
    if (tls_) {
      http::async_read(*tls_, buffer_, parser_, on_read);
    } else {
      http::async_read(*plain_, buffer_, parser_, on_read);
    }
  }

  void OnRead(const boost::system::error_code& ec) {
    if (ec == http::error::body_limit) {
      return Fail("too_large", "the response body from " + where_ + " exceeds the limit of " +
                                   std::to_string(r_.body_limit) + " bytes");
    }
    if (ec == http::error::header_limit) {
      return Fail("too_large", "the response header from " + where_ + " exceeds the limit of " +
                                   std::to_string(kHeaderLimit) + " bytes");
    }
    // A TLS peer that closes without close_notify after a complete response is common and
    // harmless.
    if (ec && !(ec == ssl::error::stream_truncated && parser_.is_done())) {
      return Fail("connection", stage_ + ": " + ec.message());
    }
    auto& res = parser_.get();
    HttpResponse out;
    out.status = static_cast<int>(res.result_int());
    auto header = [&res](http::field field) {
      auto it = res.find(field);
      return it == res.end() ? std::string() : std::string(it->value());
    };
    out.retry_after = header(http::field::retry_after);
    out.content_type = header(http::field::content_type);
    out.location = header(http::field::location);
    if (out.status < 200 || out.status > 299) {
      std::string message = "HTTP " + std::to_string(out.status);
      if (!res.reason().empty()) message += " " + std::string(res.reason());
      if (out.status >= 300 && out.status < 400 && !out.location.empty()) {
        message += " (redirects are not followed; Location: " +
                   out.location.substr(0, out.location.find('?')) + ")";
      }
      out.reason = "http_status";
      out.error = Prefix() + message;
    } else if (const std::string encoding = header(http::field::content_encoding);
               r_.identity_encoding && !encoding.empty() && !beast::iequals(encoding, "identity")) {
      out.reason = "compressed";
      out.error = Prefix() +
                  "the response is compressed (Content-Encoding: " + encoding.substr(0, 32) +
                  ") although identity was requested";
    }
    out.body = std::move(res.body());
    Done(std::move(out));
    Close();
  }

  // Closes the connection after the response: politely for TLS (bounded by the deadline, whose
  // handler closes the socket), at once otherwise.
  void Close() {
    if (!tls_) {
      beast::error_code ignored;
      plain_->socket().shutdown(tcp::socket::shutdown_both, ignored);
      CloseSocket();
      deadline_.cancel();
      return;
    }
    tls_->async_shutdown([self = shared_from_this()](const boost::system::error_code&) {
      self->CloseSocket();
      self->deadline_.cancel();
    });
  }

  std::string Prefix() const {
    return std::string(r_.method == HttpMethod::kPost ? "POST " : "GET ") + r_.url.ForMessages() +
           ": ";
  }

  void Fail(const std::string& reason, const std::string& detail) {
    HttpResponse out;
    out.reason = reason;
    out.error = Prefix() + detail;
    Done(std::move(out));
    deadline_.cancel();
    CloseSocket();
  }

  void Done(HttpResponse response) {
    if (finished_) return;
    finished_ = true;
    AbandonLookup();
    cancel_poll_.cancel();
    auto done = std::move(done_);
    done(std::move(response));
  }

  asio::io_context& io_;
  HttpRequest r_;
  std::function<void(HttpResponse)> done_;
  const std::string where_;  // "host:port", for messages
  std::string stage_;        // what the exchange is waiting for, for messages
  asio::steady_timer deadline_;
  asio::steady_timer cancel_poll_;
  ssl::context ssl_ctx_;
  std::optional<beast::tcp_stream> plain_;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls_;
  std::shared_ptr<LookupHandoff> lookup_;
  http::request<http::string_body> req_;
  beast::flat_buffer buffer_;
  http::response_parser<http::string_body> parser_;
  bool finished_ = false;
};

}  // namespace

void HttpFetchAsync(asio::io_context& io, HttpRequest request,
                    std::function<void(HttpResponse)> done) {
  auto exchange = std::make_shared<Exchange>(io, std::move(request), std::move(done));
  asio::post(io, [exchange] { exchange->Start(); });
}

HttpResponse HttpFetch(HttpRequest request) {
  asio::io_context io;
  std::optional<HttpResponse> response;
  HttpFetchAsync(io, std::move(request), [&response](HttpResponse r) { response = std::move(r); });
  while (!response && io.run_one() > 0) {
  }
  if (!response) {
    HttpResponse out;
    out.reason = "connection";
    out.error = "the exchange ended without a result";
    return out;
  }
  return std::move(*response);
}

}  // namespace tacho::base
