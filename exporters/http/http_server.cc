#include "exporters/http/http_server.h"

#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <array>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cstring>
#include <deque>
#include <exception>
#include <limits>
#include <optional>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>

namespace tacho::exporters {
namespace {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;
using error_code = boost::system::error_code;

using PlainStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;
using BeastRequest = http::request<http::string_body>;
using BeastResponse = http::response<http::string_body>;

// A lingering close gives the peer time to read a final (error) response before we close; closing
// with unread request bytes pending would make the kernel send RST and drop the response.
constexpr std::chrono::milliseconds kLingerTimeout{1000};
// Writes are bounded by max(idle_timeout, this) so a large body on a slow link still completes.
constexpr std::chrono::milliseconds kMinWriteTimeout{10000};
constexpr std::chrono::milliseconds kAcceptRetryDelay{100};
constexpr std::size_t kReadChunk = 4096;
constexpr std::size_t kAuthCacheCapacity = 256;
// bcrypt costs 50-250 ms per check (cost 10-12), so it runs on a dedicated thread, never on the
// event loop. One thread: at most one core ever goes to password hashing, whatever clients do.
constexpr std::size_t kVerifyThreads = 1;
// Verifications queued or running at once, across all connections. Beyond this a request that
// needs one is answered 429 with Retry-After at once, so an attacker cannot queue unbounded work
// (nor memory). 4 keeps the wait of the last queued check at <= 4 x 250 ms = 1 s at cost 12.
// Only a credential's first success needs a slot: later requests hit the cache on the loop, so a
// scraper with valid credentials keeps being served while the slots are busy.
constexpr std::size_t kMaxPendingVerifications = 4;

std::string_view ToStringView(beast::string_view s) { return {s.data(), s.size()}; }

std::string FormatEndpoint(const tcp::endpoint& endpoint) {
  const auto address = endpoint.address();
  std::string host = address.to_string();
  if (address.is_v6()) host = "[" + host + "]";
  return host + ":" + std::to_string(endpoint.port());
}

char ToLowerAscii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return ToLowerAscii(x) == ToLowerAscii(y);
         });
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Rejects malformed escapes and %00 (a NUL in a path is never legitimate).
std::optional<std::string> PercentDecode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) return std::nullopt;
    const int hi = HexValue(in[i + 1]);
    const int lo = HexValue(in[i + 2]);
    if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// Standard alphabet; padding optional.
std::optional<std::string> Base64Decode(std::string_view in) {
  while (!in.empty() && in.back() == '=') in.remove_suffix(1);
  if (in.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(in.size() * 3 / 4);
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    const int v = Base64Value(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return out;
}

bool IsTokenChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool IsValidHeaderName(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), IsTokenChar);
}

bool IsValidHeaderValue(std::string_view value) {
  return std::none_of(value.begin(), value.end(),
                      [](char c) { return c == '\r' || c == '\n' || c == '\0'; });
}

// One bcrypt check, prepared on the loop and run on the verification thread. It owns copies of
// everything it needs, so the server may go away while it runs. Held by a (shared) pointer so the
// password is never moved (a moved short string leaves its bytes behind) and is wiped on
// destruction even when the job is dropped unrun.
class VerifyJob {
 public:
  VerifyJob(std::string_view password, std::string hash)
      : password_(password), hash_(std::move(hash)) {}
  ~VerifyJob() { OPENSSL_cleanse(password_.data(), password_.size()); }
  VerifyJob(const VerifyJob&) = delete;
  VerifyJob& operator=(const VerifyJob&) = delete;

  // The caller has checked that the password has no NUL and fits crypt's limit.
  bool Matches() const {
    // crypt_data is ~32 KiB, hence the heap; zeroed, as crypt_r wants it on first use.
    auto data = std::make_unique<crypt_data>();
    const char* result = crypt_r(password_.c_str(), hash_.c_str(), data.get());
    const bool match = result != nullptr && result[0] != '*' &&
                       std::strlen(result) == hash_.size() &&
                       CRYPTO_memcmp(result, hash_.data(), hash_.size()) == 0;
    OPENSSL_cleanse(data.get(), sizeof(crypt_data));
    return match;
  }

 private:
  std::string password_;
  const std::string hash_;
};

bool IsBcryptHash(const std::string& hash) {
  constexpr std::size_t kBcryptLength = 60;
  return hash.size() == kBcryptLength &&
         (hash.starts_with("$2a$") || hash.starts_with("$2b$") || hash.starts_with("$2y$")) &&
         crypt_checksalt(hash.c_str()) == CRYPT_SALT_OK;
}

// Splits "host:port" / "[v6]:port". An empty host means all IPv4 interfaces.
Status ParseListen(const std::string& listen, std::string* host, std::uint16_t* port) {
  const Status invalid =
      Status::Error("invalid listen address '" + listen + "': expected host:port or [ipv6]:port");
  std::string_view port_text;
  if (listen.starts_with("[")) {
    const auto close = listen.find(']');
    if (close == std::string::npos || close + 1 >= listen.size() || listen[close + 1] != ':') {
      return invalid;
    }
    *host = listen.substr(1, close - 1);
    port_text = std::string_view(listen).substr(close + 2);
  } else {
    const auto colon = listen.rfind(':');
    if (colon == std::string::npos) return invalid;
    *host = listen.substr(0, colon);
    if (host->find(':') != std::string::npos) return invalid;
    port_text = std::string_view(listen).substr(colon + 1);
  }
  if (host->empty()) *host = "0.0.0.0";
  if (port_text.empty() || port_text.size() > 5) return invalid;
  unsigned value = 0;
  for (char c : port_text) {
    if (c < '0' || c > '9') return invalid;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value > 65535) return invalid;
  *port = static_cast<std::uint16_t>(value);
  return Status::Ok();
}

const std::error_category& HttpErrorCategory() {
  return http::make_error_code(http::error::bad_method).category();
}

class SessionBase {
 public:
  virtual ~SessionBase() = default;
  // Closes the connection now; pending operations complete with operation_aborted.
  virtual void Abort() = 0;
};

// The server proper. Sessions and pending completions share ownership, so it outlives the
// HttpServer facade until the io_context has drained.
class ServerCore : public std::enable_shared_from_this<ServerCore> {
 public:
  ServerCore(net::io_context& io, HttpServerOptions options)
      : io_(io), options_(std::move(options)), acceptor_(io), accept_retry_timer_(io) {}

  void AddRoute(std::string path, HttpHandler handler) {
    routes_.insert_or_assign(std::move(path), std::move(handler));
  }
  void ClearRoutes() { routes_.clear(); }

  Status Start();
  void Stop();

  const HttpServerOptions& options() const { return options_; }
  ssl::context& ssl_context() { return *ssl_context_; }
  HttpServerStats& stats() { return stats_; }
  bool stopped() const { return stopped_; }
  std::string BoundAddress() const { return started_ ? FormatEndpoint(bound_) : std::string(); }
  std::uint16_t BoundPort() const { return started_ ? bound_.port() : 0; }

  std::chrono::milliseconds write_timeout() const {
    return std::max(options_.idle_timeout, kMinWriteTimeout);
  }

  void Unregister(SessionBase* session, bool counted) {
    sessions_.erase(session);
    if (counted && stats_.open_connections > 0) --stats_.open_connections;
  }

  struct Outcome {
    HttpResponse response;
    bool close = false;  // the request was malformed; close after answering
  };

  enum class AuthDecision {
    kAllow,    // no auth configured, or a cached success: Route() now
    kDeny,     // answer Unauthorized()
    kBusy,     // too many verifications pending: answer TooBusy()
    kPending,  // a bcrypt check was queued; `done` gets the verdict later, on the loop
  };
  // Decides on the loop without hashing. On kPending, `done(ok)` runs on the loop once the check
  // finishes, unless the server is stopped first (then it is dropped uncalled). Never throws.
  AuthDecision Authenticate(const BeastRequest& req, std::function<void(bool)>& done);
  // Answers for a failed or refused authentication; both count as auth failures.
  Outcome Unauthorized();
  Outcome TooBusy();
  // Routes an authenticated request and runs the handler. Never throws.
  Outcome Route(const BeastRequest& req, const std::string& remote);

 private:
  Status ValidateOptions() const;
  Status LoadTls();
  Status Listen();
  void DoAccept();
  void OnAccept(const error_code& ec, tcp::socket socket);
  template <class Session>
  std::shared_ptr<Session> NewSession(tcp::socket socket, bool counted);

  AuthDecision Authorize(std::string_view authorization, std::function<void(bool)>& done);
  AuthDecision VerifyPassword(std::string_view user, std::string_view password,
                              std::function<void(bool)>& done);
  void FinishVerification(std::uint64_t id, bool match);
  void StopVerifier();
  std::string CacheKey(std::string_view user, std::string_view password) const;
  void RememberSuccess(std::string key);

  net::io_context& io_;
  const HttpServerOptions options_;
  std::unordered_map<std::string, HttpHandler> routes_;
  tcp::acceptor acceptor_;
  net::steady_timer accept_retry_timer_;
  std::unique_ptr<ssl::context> ssl_context_;
  tcp::endpoint bound_;
  bool started_ = false;
  bool stopped_ = false;
  HttpServerStats stats_;
  std::unordered_map<SessionBase*, std::weak_ptr<SessionBase>> sessions_;

  // Basic auth. Unknown users are checked against this hash so they cost as much as a wrong
  // password.
  std::string dummy_hash_;
  // Successful verifications, keyed by HMAC-SHA256("user:password") under a per-process random
  // key, so no plaintext (or unsalted fast hash) of a password is kept in memory.
  std::array<unsigned char, 32> cache_hmac_key_{};
  std::unordered_set<std::string> auth_cache_;
  std::deque<std::string> auth_cache_order_;

  // bcrypt checks in flight (queued or running on verifier_), by id. The continuation holds its
  // session; Stop() drops them all, which also breaks the session -> core -> pending cycle.
  struct PendingVerification {
    std::string cache_key;
    bool known_user = false;
    std::function<void(bool)> done;
  };
  std::unordered_map<std::uint64_t, PendingVerification> pending_;
  std::uint64_t next_verification_id_ = 0;
  // Created by Start() when basic auth is on; stopped and joined by Stop(). Its jobs hold no
  // reference to the core (only a weak_ptr, used back on the loop), so the core is never
  // destroyed on the verification thread.
  std::unique_ptr<net::thread_pool> verifier_;
};

template <class Stream>
class Session final : public SessionBase, public std::enable_shared_from_this<Session<Stream>> {
 public:
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

  Session(std::shared_ptr<ServerCore> server, tcp::socket socket, std::string remote,
          bool counted) requires(!kTls)
      : server_(std::move(server)),
        stream_(std::move(socket)),
        remote_(std::move(remote)),
        counted_(counted) {}

  Session(std::shared_ptr<ServerCore> server, tcp::socket socket, std::string remote,
          bool counted) requires(kTls)
      : server_(std::move(server)),
        stream_(std::move(socket), server_->ssl_context()),
        remote_(std::move(remote)),
        counted_(counted) {}

  ~Session() override { server_->Unregister(this, counted_); }

  void Run() {
    // One deadline covers the TLS handshake and the whole first request head.
    Lowest().expires_after(server_->options().header_timeout);
    if constexpr (kTls) {
      stream_.async_handshake(
          ssl::stream_base::server,
          [self = this->shared_from_this()](const error_code& ec) { self->OnHandshake(ec); });
    } else {
      ReadRequest();
    }
  }

  // Answers 503 and closes (plaintext connections only, see OnAccept).
  void Reject() requires(!kTls) {
    static const std::string kResponse = [] {
      const std::string body = "Too many connections\n";
      return "HTTP/1.1 503 Service Unavailable\r\nServer: tacho\r\n"
             "Content-Type: text/plain; charset=utf-8\r\nContent-Length: " +
             std::to_string(body.size()) + "\r\nConnection: close\r\nRetry-After: 1\r\n\r\n" + body;
    }();
    Lowest().expires_after(kLingerTimeout);
    net::async_write(Lowest(), net::buffer(kResponse),
                     [self = this->shared_from_this()](const error_code& ec, std::size_t) {
                       if (ec || self->aborted_) return self->Close();
                       self->Linger();
                     });
  }

  void Abort() override {
    aborted_ = true;
    Lowest().close();
  }

 private:
  beast::tcp_stream& Lowest() { return beast::get_lowest_layer(stream_); }

  void OnHandshake(const error_code& ec) {
    if (aborted_) return;
    if (ec) {
      if (ec != net::error::eof && ec != ssl::error::stream_truncated) {
        ++server_->stats().bad_requests;
      }
      return Close();
    }
    ReadRequest();
  }

  // Between keep-alive requests the connection may idle for idle_timeout; once the first byte of
  // the next request arrives its head must complete within header_timeout.
  void WaitForRequest() {
    if (buffer_.size() > 0) {
      Lowest().expires_after(server_->options().header_timeout);
      return ReadRequest();
    }
    Lowest().expires_after(server_->options().idle_timeout);
    stream_.async_read_some(buffer_.prepare(kReadChunk), [self = this->shared_from_this()](
                                                             const error_code& ec, std::size_t n) {
      if (self->aborted_) return;
      if (ec) return self->Close();  // idle timeout or the peer left: not an error
      self->buffer_.commit(n);
      self->Lowest().expires_after(self->server_->options().header_timeout);
      self->ReadRequest();
    });
  }

  void ReadRequest() {
    const auto& options = server_->options();
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(std::min<std::size_t>(
        options.max_header_bytes, std::numeric_limits<std::uint32_t>::max())));
    parser_->body_limit(static_cast<std::uint64_t>(options.max_body_bytes));
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = this->shared_from_this()](const error_code& ec, std::size_t) {
                              self->OnHeader(ec);
                            });
  }

  void OnHeader(const error_code& ec) {
    if (aborted_) return;
    if (ec) return OnReadError(ec);
    if (parser_->is_done()) return Dispatch();
    Lowest().expires_after(server_->options().header_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = this->shared_from_this()](const error_code& ec, std::size_t) {
                       if (self->aborted_) return;
                       if (ec) return self->OnReadError(ec);
                       self->Dispatch();
                     });
  }

  void OnReadError(const error_code& ec) {
    auto& stats = server_->stats();
    if (ec == http::error::end_of_stream || ec == ssl::error::stream_truncated) return Close();
    if (ec == beast::error::timeout) {
      ++stats.bad_requests;
      return Close();
    }
    if (ec == http::error::header_limit) {
      ++stats.bad_requests;
      return RespondAndClose(431, "Request Header Fields Too Large\n");
    }
    if (ec == http::error::body_limit) {
      ++stats.bad_requests;
      return RespondAndClose(413, "Content Too Large\n");
    }
    if (ec.category() == HttpErrorCategory()) {
      ++stats.bad_requests;
      return RespondAndClose(400, "Bad Request\n");
    }
    Close();  // connection reset and the like
  }

  void Dispatch() {
    ++server_->stats().requests;
    std::function<void(bool)> done = [self = this->shared_from_this()](bool ok) {
      self->OnVerified(ok);
    };
    using Decision = ServerCore::AuthDecision;
    switch (server_->Authenticate(parser_->get(), done)) {
      case Decision::kAllow:
        return Respond(server_->Route(parser_->get(), remote_));
      case Decision::kDeny:
        return Respond(server_->Unauthorized());
      case Decision::kBusy:
        return Respond(server_->TooBusy());
      case Decision::kPending:
        // OnVerified continues. Nothing is read meanwhile, so pipelined requests stay in the
        // buffer and are answered in order; no stream operation is pending, so no timer runs.
        return;
    }
  }

  // On the loop, after the verification thread checked the password.
  void OnVerified(bool ok) {
    if (aborted_ || !parser_) return;
    Respond(ok ? server_->Route(parser_->get(), remote_) : server_->Unauthorized());
  }

  void Respond(ServerCore::Outcome outcome) {
    const BeastRequest& req = parser_->get();
    const bool keep_alive = req.keep_alive() && !outcome.close && !server_->stopped();
    const bool head = req.method() == http::verb::head;
    const unsigned version = req.version();
    parser_.reset();
    Write(BuildResponse(std::move(outcome.response), version, head, keep_alive), keep_alive);
  }

  void RespondAndClose(int status, std::string body) {
    HttpResponse response;
    response.status = status;
    response.body = std::move(body);
    parser_.reset();
    Write(BuildResponse(std::move(response), 11, false, false), false);
  }

  static BeastResponse BuildResponse(HttpResponse response, unsigned version, bool head,
                                     bool keep_alive) {
    try {
      return BuildResponseOrThrow(std::move(response), version, head, keep_alive);
    } catch (const std::exception&) {
      HttpResponse fallback;
      fallback.status = 500;
      fallback.body = "Internal Server Error\n";
      return BuildResponseOrThrow(std::move(fallback), version, head, keep_alive);
    }
  }

  static BeastResponse BuildResponseOrThrow(HttpResponse response, unsigned version, bool head,
                                            bool keep_alive) {
    if (response.status < 200 || response.status > 599) {
      response = HttpResponse{};
      response.status = 500;
      response.body = "Internal Server Error\n";
    }
    BeastResponse res;
    res.version(version);
    res.result(static_cast<unsigned>(response.status));
    res.set(http::field::server, "tacho");
    if (!response.content_type.empty() && IsValidHeaderValue(response.content_type)) {
      res.set(http::field::content_type, response.content_type);
    }
    for (const auto& [name, value] : response.headers) {
      // Framing headers are ours to set; a handler cannot break the connection's framing.
      if (!IsValidHeaderName(name) || !IsValidHeaderValue(value) ||
          EqualsIgnoreCase(name, "content-length") || EqualsIgnoreCase(name, "transfer-encoding") ||
          EqualsIgnoreCase(name, "connection")) {
        continue;
      }
      res.insert(name, value);
    }
    res.keep_alive(keep_alive);
    const bool bodyless_status = response.status == 204 || response.status == 304;
    if (!bodyless_status) {
      // For HEAD, Content-Length announces the GET body that is not sent.
      res.content_length(response.body.size());
      if (!head) res.body() = std::move(response.body);
    }
    return res;
  }

  void Write(BeastResponse response, bool keep_alive) {
    response_.emplace(std::move(response));
    Lowest().expires_after(server_->write_timeout());
    http::async_write(
        stream_, *response_,
        [self = this->shared_from_this(), keep_alive](const error_code& ec, std::size_t) {
          if (self->aborted_) return;
          self->response_.reset();
          if (ec) return self->Close();
          if (!keep_alive || self->server_->stopped()) return self->GracefulClose();
          self->WaitForRequest();
        });
  }

  void GracefulClose() {
    Lowest().expires_after(kLingerTimeout);
    if constexpr (kTls) {
      stream_.async_shutdown([self = this->shared_from_this()](const error_code&) {
        if (self->aborted_) return;
        self->Linger();
      });
    } else {
      Linger();
    }
  }

  // Half-closes and discards what the peer still sends until it closes or the deadline set by
  // the caller passes.
  void Linger() {
    error_code ignored;
    Lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
    Drain();
  }

  void Drain() {
    buffer_.clear();
    Lowest().async_read_some(buffer_.prepare(kReadChunk),
                             [self = this->shared_from_this()](const error_code& ec, std::size_t) {
                               if (self->aborted_) return;
                               if (ec) return self->Close();
                               self->Drain();
                             });
  }

  void Close() {
    error_code ignored;
    Lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
    Lowest().close();
  }

  const std::shared_ptr<ServerCore> server_;
  Stream stream_;
  const std::string remote_;
  const bool counted_;
  bool aborted_ = false;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<BeastResponse> response_;
};

HttpResponse SimpleResponse(int status, std::string body) {
  HttpResponse response;
  response.status = status;
  response.body = std::move(body);
  return response;
}

Status ServerCore::ValidateOptions() const {
  if (options_.max_connections == 0) return Status::Error("http: max_connections must be > 0");
  if (options_.max_header_bytes == 0) return Status::Error("http: max_header_bytes must be > 0");
  if (options_.header_timeout.count() <= 0) {
    return Status::Error("http: header_timeout must be positive");
  }
  if (options_.idle_timeout.count() <= 0) {
    return Status::Error("http: idle_timeout must be positive");
  }
  if (options_.tls_cert_file.empty() != options_.tls_key_file.empty()) {
    return Status::Error("http: TLS needs both a certificate and a key file");
  }
  for (const auto& [user, hash] : options_.basic_auth_users) {
    if (user.empty() || user.find(':') != std::string::npos) {
      return Status::Error("http: invalid basic auth user name '" + user + "'");
    }
    if (!IsBcryptHash(hash)) {
      return Status::Error("http: basic auth user '" + user +
                           "' needs a bcrypt hash ($2a$, $2b$ or $2y$)");
    }
  }
  return Status::Ok();
}

Status ServerCore::LoadTls() {
  auto context = std::make_unique<ssl::context>(ssl::context::tls_server);
  context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                       ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                       ssl::context::no_compression | ssl::context::single_dh_use);
  SSL_CTX* native = context->native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  // An encrypted key must fail to load instead of OpenSSL prompting on the terminal.
  context->set_password_callback(
      [](std::size_t, ssl::context::password_purpose) { return std::string(); });

  error_code ec;
  context->use_certificate_chain_file(options_.tls_cert_file, ec);
  if (ec) {
    return Status::Error("cannot load TLS certificate " + options_.tls_cert_file + ": " +
                         ec.message());
  }
  context->use_private_key_file(options_.tls_key_file, ssl::context::pem, ec);
  if (ec) {
    return Status::Error("cannot load TLS key " + options_.tls_key_file + ": " + ec.message());
  }
  if (SSL_CTX_check_private_key(native) != 1) {
    return Status::Error("TLS key " + options_.tls_key_file + " does not match certificate " +
                         options_.tls_cert_file);
  }
  ssl_context_ = std::move(context);
  return Status::Ok();
}

Status ServerCore::Listen() {
  std::string host;
  std::uint16_t port = 0;
  if (Status status = ParseListen(options_.listen, &host, &port); !status.ok()) return status;

  std::vector<tcp::endpoint> endpoints;
  error_code ec;
  const auto address = net::ip::make_address(host, ec);
  if (!ec) {
    endpoints.emplace_back(address, port);
  } else {
    tcp::resolver resolver(io_);
    const auto results =
        resolver.resolve(host, std::to_string(port), tcp::resolver::numeric_service, ec);
    if (ec) {
      return Status::Error("cannot resolve listen address " + options_.listen + ": " +
                           ec.message());
    }
    for (const auto& entry : results) endpoints.push_back(entry.endpoint());
    if (endpoints.empty()) {
      return Status::Error("cannot resolve listen address " + options_.listen);
    }
  }

  // The first endpoint that binds wins (e.g. "localhost" may resolve to ::1 and 127.0.0.1).
  error_code last_error;
  for (const auto& endpoint : endpoints) {
    error_code ignored;
    acceptor_.close(ignored);
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
    if (!ec) {
      bound_ = acceptor_.local_endpoint(ec);
      if (!ec) return Status::Ok();
    }
    last_error = ec;
  }
  error_code ignored;
  acceptor_.close(ignored);
  return Status::Error("cannot listen on " + options_.listen + ": " + last_error.message());
}

Status ServerCore::Start() {
  if (started_) return Status::Error("http: server on " + options_.listen + " already started");
  if (stopped_) return Status::Error("http: server on " + options_.listen + " was stopped");
  try {
    if (Status status = ValidateOptions(); !status.ok()) return status;
    if (!options_.tls_cert_file.empty()) {
      if (Status status = LoadTls(); !status.ok()) return status;
    }
    if (!options_.basic_auth_users.empty()) {
      dummy_hash_ = options_.basic_auth_users.begin()->second;
      if (RAND_bytes(cache_hmac_key_.data(), static_cast<int>(cache_hmac_key_.size())) != 1) {
        return Status::Error("http: cannot generate random key for the auth cache");
      }
    }
    if (Status status = Listen(); !status.ok()) return status;
    if (!options_.basic_auth_users.empty()) {
      verifier_ = std::make_unique<net::thread_pool>(kVerifyThreads);
    }
  } catch (const std::exception& e) {
    return Status::Error("cannot start HTTP server on " + options_.listen + ": " + e.what());
  }
  started_ = true;
  DoAccept();
  return Status::Ok();
}

void ServerCore::Stop() {
  if (stopped_) return;
  stopped_ = true;
  error_code ignored;
  acceptor_.close(ignored);
  accept_retry_timer_.cancel();
  // Abort() cannot destroy a session synchronously (its pending operation holds it), but collect
  // owners first anyway so sessions_ is not mutated while iterated.
  std::vector<std::shared_ptr<SessionBase>> live;
  live.reserve(sessions_.size());
  for (const auto& [raw, weak] : sessions_) {
    if (auto session = weak.lock()) live.push_back(std::move(session));
  }
  for (const auto& session : live) session->Abort();
  StopVerifier();
}

// Joining waits for at most the one bcrypt check already running (<= ~250 ms at cost 12); queued
// checks are dropped unrun. Only Stop() (and so the destructor) blocks the loop for that.
void ServerCore::StopVerifier() {
  // Continuations own their sessions: drop them (the sessions were aborted) outside the map.
  auto pending = std::move(pending_);
  pending_.clear();
  if (verifier_) {
    verifier_->stop();
    verifier_->join();
  }
}

void ServerCore::DoAccept() {
  acceptor_.async_accept([self = shared_from_this()](const error_code& ec, tcp::socket socket) {
    self->OnAccept(ec, std::move(socket));
  });
}

template <class Session>
std::shared_ptr<Session> ServerCore::NewSession(tcp::socket socket, bool counted) {
  error_code ec;
  const auto remote = socket.remote_endpoint(ec);
  auto session = std::make_shared<Session>(shared_from_this(), std::move(socket),
                                           ec ? std::string() : FormatEndpoint(remote), counted);
  sessions_.emplace(session.get(), session);
  if (counted) ++stats_.open_connections;
  return session;
}

void ServerCore::OnAccept(const error_code& ec, tcp::socket socket) {
  if (stopped_) return;
  if (ec) {
    if (ec == net::error::operation_aborted) return;
    // E.g. EMFILE: back off instead of spinning on a listen socket that stays readable.
    accept_retry_timer_.expires_after(kAcceptRetryDelay);
    accept_retry_timer_.async_wait([self = shared_from_this()](const error_code& ec) {
      if (!ec && !self->stopped_) self->DoAccept();
    });
    return;
  }
  error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  const bool reject = stats_.open_connections >= options_.max_connections;
  if (reject) ++stats_.rejected_connections;
  if (ssl_context_) {
    // A TLS peer cannot read a plaintext 503, and a handshake would be work spent on a
    // connection we refuse anyway.
    if (reject) {
      socket.close(ignored);
    } else {
      NewSession<Session<TlsStream>>(std::move(socket), true)->Run();
    }
  } else {
    auto session = NewSession<Session<PlainStream>>(std::move(socket), !reject);
    reject ? session->Reject() : session->Run();
  }
  DoAccept();
}

ServerCore::AuthDecision ServerCore::Authenticate(const BeastRequest& req,
                                                  std::function<void(bool)>& done) {
  if (options_.basic_auth_users.empty()) return AuthDecision::kAllow;
  try {
    const auto it = req.find(http::field::authorization);
    if (it == req.end()) return AuthDecision::kDeny;
    return Authorize(ToStringView(it->value()), done);
  } catch (...) {
    return AuthDecision::kDeny;  // fail closed
  }
}

ServerCore::Outcome ServerCore::Unauthorized() {
  ++stats_.auth_failures;
  HttpResponse response = SimpleResponse(401, "Unauthorized\n");
  response.headers.emplace_back("WWW-Authenticate", "Basic realm=\"tacho\"");
  return {std::move(response), false};
}

ServerCore::Outcome ServerCore::TooBusy() {
  ++stats_.auth_failures;
  HttpResponse response = SimpleResponse(429, "Too Many Requests\n");
  response.headers.emplace_back("Retry-After", "1");
  return {std::move(response), false};
}

ServerCore::Outcome ServerCore::Route(const BeastRequest& req, const std::string& remote) {
  try {
    if (req.method() != http::verb::get && req.method() != http::verb::head) {
      HttpResponse response = SimpleResponse(405, "Method Not Allowed\n");
      response.headers.emplace_back("Allow", "GET, HEAD");
      return {std::move(response), false};
    }

    std::string_view target = ToStringView(req.target());
    // Absolute-form ("http://host/path") is allowed by RFC 9112; keep only the path.
    for (std::string_view scheme : {"http://", "https://"}) {
      if (target.size() >= scheme.size() &&
          EqualsIgnoreCase(target.substr(0, scheme.size()), scheme)) {
        const auto slash = target.find('/', scheme.size());
        target = slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
        break;
      }
    }
    const auto question = target.find('?');
    auto path = PercentDecode(target.substr(0, question));
    if (!path || path->empty() || path->front() != '/') {
      ++stats_.bad_requests;
      return {SimpleResponse(400, "Bad Request\n"), true};
    }

    HttpRequest request;
    request.method = std::string(ToStringView(req.method_string()));
    request.path = std::move(*path);
    if (question != std::string_view::npos)
      request.query = std::string(target.substr(question + 1));
    for (const auto& field : req) {
      if (!options_.basic_auth_users.empty() && field.name() == http::field::authorization) {
        continue;  // credentials stay here; handlers have no use for them
      }
      std::string name(ToStringView(field.name_string()));
      std::transform(name.begin(), name.end(), name.begin(), ToLowerAscii);
      auto [it, inserted] =
          request.headers.try_emplace(std::move(name), ToStringView(field.value()));
      if (!inserted) {
        it->second += ", ";
        it->second += ToStringView(field.value());
      }
    }
    request.remote = remote;

    const auto route = routes_.find(request.path);
    if (route == routes_.end()) return {SimpleResponse(404, "Not Found\n"), false};
    // Copy: the handler may replace its own route.
    const HttpHandler handler = route->second;
    return {handler(request), false};
  } catch (...) {
    return {SimpleResponse(500, "Internal Server Error\n"), false};
  }
}

ServerCore::AuthDecision ServerCore::Authorize(std::string_view authorization,
                                               std::function<void(bool)>& done) {
  while (!authorization.empty() && authorization.front() == ' ') authorization.remove_prefix(1);
  const auto space = authorization.find(' ');
  if (space == std::string_view::npos ||
      !EqualsIgnoreCase(authorization.substr(0, space), "basic")) {
    return AuthDecision::kDeny;
  }
  std::string_view encoded = authorization.substr(space + 1);
  while (!encoded.empty() && encoded.front() == ' ') encoded.remove_prefix(1);
  while (!encoded.empty() && encoded.back() == ' ') encoded.remove_suffix(1);
  auto decoded = Base64Decode(encoded);
  if (!decoded) return AuthDecision::kDeny;
  AuthDecision decision = AuthDecision::kDeny;
  const auto colon = decoded->find(':');
  try {
    if (colon != std::string::npos) {
      decision = VerifyPassword(std::string_view(*decoded).substr(0, colon),
                                std::string_view(*decoded).substr(colon + 1), done);
    }
  } catch (...) {
    OPENSSL_cleanse(decoded->data(), decoded->size());
    throw;
  }
  OPENSSL_cleanse(decoded->data(), decoded->size());
  return decision;
}

ServerCore::AuthDecision ServerCore::VerifyPassword(std::string_view user,
                                                    std::string_view password,
                                                    std::function<void(bool)>& done) {
  const auto user_it = options_.basic_auth_users.find(std::string(user));
  const bool known = user_it != options_.basic_auth_users.end();
  std::string key = CacheKey(user, password);
  // Cache hits stay on the loop: no thread hop, no slot.
  if (known && auth_cache_.contains(key)) return AuthDecision::kAllow;
  // crypt_r takes a C string: a NUL inside would silently truncate the password.
  if (password.size() >= CRYPT_MAX_PASSPHRASE_SIZE ||
      password.find('\0') != std::string_view::npos) {
    return AuthDecision::kDeny;
  }
  if (stopped_ || !verifier_) return AuthDecision::kDeny;
  if (pending_.size() >= kMaxPendingVerifications) return AuthDecision::kBusy;

  // Unknown users are checked against the dummy hash: same cost, same queue, same answers.
  auto job = std::make_shared<VerifyJob>(password, known ? user_it->second : dummy_hash_);
  const std::uint64_t id = next_verification_id_++;
  pending_.emplace(id, PendingVerification{std::move(key), known, std::move(done)});
  try {
    net::post(*verifier_, [job = std::move(job), io = io_.get_executor(), core = weak_from_this(),
                           id]() mutable {
      const bool match = job->Matches();
      job.reset();  // wipe the password now
      try {
        net::post(io, [core = std::move(core), id, match] {
          if (auto self = core.lock()) self->FinishVerification(id, match);
        });
      } catch (...) {
        // Out of memory: the request stays unanswered until Stop() drops it; its slot is lost.
        // Throwing here would terminate the process.
      }
    });
  } catch (...) {
    pending_.erase(id);
    throw;
  }
  return AuthDecision::kPending;
}

// On the loop. Unknown ids belong to verifications Stop() dropped.
void ServerCore::FinishVerification(std::uint64_t id, bool match) {
  const auto it = pending_.find(id);
  if (it == pending_.end()) return;
  PendingVerification pending = std::move(it->second);
  pending_.erase(it);
  const bool ok = pending.known_user && match;
  if (ok) {
    try {
      RememberSuccess(std::move(pending.cache_key));
    } catch (...) {
      // Not cached: the next request verifies again.
    }
  }
  pending.done(ok);
}

std::string ServerCore::CacheKey(std::string_view user, std::string_view password) const {
  std::string material;
  material.reserve(user.size() + 1 + password.size());
  material.append(user).append(":").append(password);
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  HMAC(EVP_sha256(), cache_hmac_key_.data(), static_cast<int>(cache_hmac_key_.size()),
       reinterpret_cast<const unsigned char*>(material.data()), material.size(), digest.data(),
       &length);
  OPENSSL_cleanse(material.data(), material.size());
  return std::string(reinterpret_cast<const char*>(digest.data()), length);
}

void ServerCore::RememberSuccess(std::string key) {
  if (auth_cache_.size() >= kAuthCacheCapacity) {
    auth_cache_.erase(auth_cache_order_.front());
    auth_cache_order_.pop_front();
  }
  auth_cache_order_.push_back(key);
  auth_cache_.insert(std::move(key));
}

}  // namespace

struct HttpServer::Impl {
  std::shared_ptr<ServerCore> core;
};

HttpServer::HttpServer(boost::asio::io_context& io, HttpServerOptions options)
    : impl_(std::make_shared<Impl>(Impl{std::make_shared<ServerCore>(io, std::move(options))})) {}

HttpServer::~HttpServer() {
  impl_->core->Stop();
  // Queued completions may still run after this; without routes they cannot reach objects the
  // handlers captured, which the caller may destroy next.
  impl_->core->ClearRoutes();
}

void HttpServer::Handle(std::string path, HttpHandler handler) {
  impl_->core->AddRoute(std::move(path), std::move(handler));
}

Status HttpServer::Start() { return impl_->core->Start(); }

std::string HttpServer::BoundAddress() const { return impl_->core->BoundAddress(); }

std::uint16_t HttpServer::BoundPort() const { return impl_->core->BoundPort(); }

void HttpServer::Stop() { impl_->core->Stop(); }

HttpServerStats HttpServer::Stats() const { return impl_->core->stats(); }

}  // namespace tacho::exporters
