#include "base/http_client.h"

#include <openssl/ssl.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <memory>

#include "base/build_info.h"

namespace tacho::base {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

namespace {

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(asio::io_context& io, HttpPostRequest request, std::function<void(HttpPostResult)> done)
      : io_(io),
        request_(std::move(request)),
        done_(std::move(done)),
        resolver_(io),
        deadline_(io),
        ssl_ctx_(ssl::context::tls_client) {}

  void Start() {
    const Url& u = request_.url;
    if (u.scheme == "https") {
      boost::system::error_code ec;
      ssl_ctx_.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                           ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                           ssl::context::no_tlsv1_1);
      ssl_ctx_.set_verify_mode(ssl::verify_peer, ec);
      if (request_.ca_file.empty()) {
        ssl_ctx_.set_default_verify_paths(ec);
      } else {
        ssl_ctx_.load_verify_file(request_.ca_file, ec);
      }
      if (ec) return Finish(0, "tls", "cannot load CA certificates: " + ec.message());
      tls_ = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(io_, ssl_ctx_);
      if (!SSL_set_tlsext_host_name(tls_->native_handle(), u.host.c_str())) {
        return Finish(0, "tls", "cannot set SNI host name");
      }
      tls_->set_verify_callback(ssl::host_name_verification(u.host));
    } else {
      plain_ = std::make_unique<beast::tcp_stream>(io_);
    }
    req_.method(http::verb::post);
    req_.target(u.target);
    req_.version(11);
    const bool default_port = (u.scheme == "https" && u.port == "443") ||
                              (u.scheme == "http" && u.port == "80");
    const std::string host = u.host.find(':') != std::string::npos ? "[" + u.host + "]" : u.host;
    req_.set(http::field::host, default_port ? host : host + ":" + u.port);
    req_.set(http::field::user_agent, std::string("tacho/") + kVersion);
    req_.set(http::field::content_type, request_.content_type);
    for (const auto& [k, v] : request_.headers) req_.set(k, v);
    req_.body() = request_.body;
    req_.prepare_payload();

    deadline_.expires_after(request_.timeout);
    deadline_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (ec || self->finished_) return;
      self->timed_out_ = true;
      self->resolver_.cancel();
      beast::error_code ignored;
      self->Lowest().socket().close(ignored);
    });
    resolver_.async_resolve(u.host, u.port,
                            [self = shared_from_this()](const boost::system::error_code& ec,
                                                        tcp::resolver::results_type results) {
                              self->OnResolve(ec, std::move(results));
                            });
  }

 private:
  beast::tcp_stream& Lowest() { return tls_ ? beast::get_lowest_layer(*tls_) : *plain_; }

  void OnResolve(const boost::system::error_code& ec, tcp::resolver::results_type results) {
    if (ec) return Fail("connection", "resolving " + request_.url.host + ": " + ec.message());
    Lowest().async_connect(results, [self = shared_from_this()](
                                        const boost::system::error_code& ec,
                                        const tcp::endpoint&) { self->OnConnect(ec); });
  }

  void OnConnect(const boost::system::error_code& ec) {
    if (ec) return Fail("connection", "connecting: " + ec.message());
    if (tls_) {
      tls_->async_handshake(ssl::stream_base::client,
                            [self = shared_from_this()](const boost::system::error_code& ec) {
                              if (ec) return self->Fail("tls", "TLS handshake: " + ec.message());
                              self->Write();
                            });
      return;
    }
    Write();
  }

  void Write() {
    auto on_write = [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
      if (ec) return self->Fail("connection", "sending: " + ec.message());
      self->Read();
    };
    if (tls_) {
      http::async_write(*tls_, req_, on_write);
    } else {
      http::async_write(*plain_, req_, on_write);
    }
  }

  void Read() {
    parser_.body_limit(1 << 20);
    auto on_read = [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
      if (ec) return self->Fail("connection", "reading the response: " + ec.message());
      const auto& res = self->parser_.get();
      HttpPostResult r;
      r.status = static_cast<int>(res.result_int());
      if (auto it = res.find(http::field::retry_after); it != res.end()) {
        r.retry_after = std::string(it->value());
      }
      r.body = res.body().substr(0, 4096);
      self->Done(std::move(r));
      // Close politely; the result is already delivered.
      if (self->tls_) {
        self->tls_->async_shutdown([self](const boost::system::error_code&) {
          beast::error_code ignored;
          self->Lowest().socket().close(ignored);
        });
      } else {
        beast::error_code ignored;
        self->plain_->socket().shutdown(tcp::socket::shutdown_both, ignored);
      }
    };
    if (tls_) {
      http::async_read(*tls_, buffer_, parser_, on_read);
    } else {
      http::async_read(*plain_, buffer_, parser_, on_read);
    }
  }

  void Fail(const std::string& reason, const std::string& error) {
    if (timed_out_) return Finish(0, "timeout", "no response within the timeout");
    Finish(0, reason, error);
  }

  void Finish(int status, const std::string& reason, const std::string& error) {
    HttpPostResult r;
    r.status = status;
    r.reason = reason;
    r.error = error;
    Done(std::move(r));
  }

  void Done(HttpPostResult r) {
    if (finished_) return;
    finished_ = true;
    deadline_.cancel();
    auto done = std::move(done_);
    done(std::move(r));
  }

  asio::io_context& io_;
  HttpPostRequest request_;
  std::function<void(HttpPostResult)> done_;
  tcp::resolver resolver_;
  asio::steady_timer deadline_;
  ssl::context ssl_ctx_;
  std::unique_ptr<beast::tcp_stream> plain_;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> tls_;
  http::request<http::string_body> req_;
  beast::flat_buffer buffer_;
  http::response_parser<http::string_body> parser_;
  bool finished_ = false;
  bool timed_out_ = false;
};

}  // namespace

void HttpPost(asio::io_context& io, HttpPostRequest request,
              std::function<void(HttpPostResult)> done) {
  std::make_shared<Session>(io, std::move(request), std::move(done))->Start();
}

}  // namespace tacho::base
