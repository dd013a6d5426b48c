#include "exporters/http/http_server.h"

#include <arpa/inet.h>
#include <crypt.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <vector>

#include "gtest/gtest.h"

namespace tacho::exporters {
namespace {

namespace net = boost::asio;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

struct RawResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-cased names
  std::string body;
};

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// A blocking HTTP/1.1 client on a raw socket with deadlines on every read, so a misbehaving
// server fails a test instead of hanging it.
class Client {
 public:
  explicit Client(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~Client() { Close(); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool connected() const { return fd_ >= 0; }

  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  // MSG_NOSIGNAL: writing to a connection the server closed must not kill the test with SIGPIPE.
  bool Send(std::string_view data) {
    while (!data.empty()) {
      const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  static std::string GetRequest(const std::string& path, const std::string& extra_headers = "") {
    return "GET " + path + " HTTP/1.1\r\nHost: test\r\n" + extra_headers + "\r\n";
  }

  bool Get(const std::string& path, const std::string& extra_headers = "") {
    return Send(GetRequest(path, extra_headers));
  }

  // Sends `request` and reads the answer; nullopt when either fails.
  std::optional<RawResponse> Exchange(std::string_view request) {
    if (!Send(request)) return std::nullopt;
    return Read();
  }

  std::optional<RawResponse> Fetch(const std::string& path, const std::string& extra_headers = "") {
    if (!Get(path, extra_headers)) return std::nullopt;
    return Read();
  }

  // Reads one response (no body for HEAD). nullopt when the server closed or timed out first.
  std::optional<RawResponse> Read(bool head = false, milliseconds timeout = milliseconds(3000)) {
    const auto deadline = Clock::now() + timeout;
    std::size_t end;
    while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill(deadline)) return std::nullopt;
    }
    RawResponse response;
    const std::string head_text = buffer_.substr(0, end);
    std::size_t line_end = head_text.find("\r\n");
    const std::string status_line = head_text.substr(0, line_end);
    if (status_line.size() < 12 || !status_line.starts_with("HTTP/1.")) return std::nullopt;
    response.status = std::stoi(status_line.substr(9, 3));
    while (line_end != std::string::npos) {
      const std::size_t start = line_end + 2;
      line_end = head_text.find("\r\n", start);
      const std::string line = head_text.substr(start, line_end - start);
      const auto colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      response.headers[Lower(line.substr(0, colon))] = value;
    }
    buffer_.erase(0, end + 4);
    std::size_t length = 0;
    if (auto it = response.headers.find("content-length"); it != response.headers.end()) {
      length = std::stoul(it->second);
    }
    if (head) length = 0;
    while (buffer_.size() < length) {
      if (!Fill(deadline)) return std::nullopt;
    }
    response.body = buffer_.substr(0, length);
    buffer_.erase(0, length);
    return response;
  }

  // True when the server closes the connection (EOF or reset) within the timeout; data that
  // arrives meanwhile is discarded.
  bool WaitClosed(milliseconds timeout = milliseconds(3000)) {
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      pollfd pfd{fd_, POLLIN, 0};
      const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
      if (::poll(&pfd, 1, static_cast<int>(std::max<long>(left.count(), 1))) <= 0) continue;
      char chunk[4096];
      const ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
      if (n <= 0) return true;
    }
    return false;
  }

  // True when nothing at all arrived within the window.
  bool Silent(milliseconds window) {
    pollfd pfd{fd_, POLLIN, 0};
    return ::poll(&pfd, 1, static_cast<int>(window.count())) == 0;
  }

 private:
  bool Fill(Clock::time_point deadline) {
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    pollfd pfd{fd_, POLLIN, 0};
    if (::poll(&pfd, 1, static_cast<int>(left.count())) <= 0) return false;
    char chunk[4096];
    const ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (n <= 0) return false;
    buffer_.append(chunk, static_cast<std::size_t>(n));
    return true;
  }

  int fd_ = -1;
  std::string buffer_;
};

// Passes when a response arrived and has `status`.
::testing::AssertionResult HasStatus(const std::optional<RawResponse>& response, int status) {
  if (!response) return ::testing::AssertionFailure() << "no response";
  if (response->status != status) {
    return ::testing::AssertionFailure()
           << "status " << response->status << ", expected " << status;
  }
  return ::testing::AssertionSuccess();
}

// Passes when the server answers `request` on `client` with `status` and then closes the
// connection.
::testing::AssertionResult AnsweredThenClosed(Client& client, std::string_view request,
                                              int status) {
  const auto answered = HasStatus(client.Exchange(request), status);
  if (!answered) return answered;
  if (!client.WaitClosed()) return ::testing::AssertionFailure() << "connection kept open";
  return ::testing::AssertionSuccess();
}

// Sends `data`, then measures how long the server takes to close the connection; nullopt when it
// stays open for 2 s.
std::optional<milliseconds> TimeUntilClosed(Client& client, std::string_view data = {}) {
  const auto start = Clock::now();
  if (!client.Send(data) || !client.WaitClosed(milliseconds(2000))) return std::nullopt;
  return std::chrono::duration_cast<milliseconds>(Clock::now() - start);
}

struct CommandResult {
  int exit_code = -1;
  std::string output;
};

CommandResult RunCommand(const std::string& command) {
  CommandResult result;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return result;
  char chunk[4096];
  std::size_t n;
  while ((n = std::fread(chunk, 1, sizeof(chunk), pipe)) > 0) result.output.append(chunk, n);
  const int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

std::string Base64(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(in[i]) << 16) |
                       (static_cast<unsigned char>(in[i + 1]) << 8) |
                       static_cast<unsigned char>(in[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (i + 1 == in.size()) {
    const unsigned v = static_cast<unsigned char>(in[i]) << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    const unsigned v =
        (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

std::string BasicAuthHeader(const std::string& user, const std::string& password) {
  return "Authorization: Basic " + Base64(user + ":" + password) + "\r\n";
}

// Cost 5 keeps most tests fast; the server treats every cost alike. The load tests use real
// costs (10: ~50 ms, 12: ~200 ms per check) so that a verification holds a slot for a while.
std::string BcryptHash(const std::string& password, int cost = 5) {
  char salt[CRYPT_GENSALT_OUTPUT_SIZE];
  if (crypt_gensalt_rn("$2b$", cost, nullptr, 0, salt, sizeof(salt)) == nullptr) return "";
  auto data = std::make_unique<crypt_data>();
  const char* hash = crypt_r(password.c_str(), salt, data.get());
  return hash != nullptr && hash[0] != '*' ? hash : "";
}

// A self-signed certificate shared by all TLS tests (RSA key generation is the slow part).
class TlsFiles {
 public:
  static const TlsFiles& Get() {
    static const TlsFiles files;
    return files;
  }
  ~TlsFiles() {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  const std::string& cert() const { return cert_; }
  const std::string& key() const { return key_; }
  bool ok() const { return ok_; }
  const std::string& dir() const { return dir_; }

 private:
  TlsFiles() {
    char pattern[] = "/tmp/tacho_http_test_XXXXXX";
    if (::mkdtemp(pattern) == nullptr) return;
    dir_ = pattern;
    cert_ = dir_ + "/cert.pem";
    key_ = dir_ + "/key.pem";
    const CommandResult result = RunCommand(
        "openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -days 1 -keyout " + key_ +
        " -out " + cert_ + " 2>&1");
    ok_ = result.exit_code == 0 && std::filesystem::exists(cert_) && std::filesystem::exists(key_);
  }

  std::string dir_;
  std::string cert_;
  std::string key_;
  bool ok_ = false;
};

class HttpServerTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (thread_.joinable()) {
      OnLoop([this] { server_.reset(); });
      work_.reset();
      thread_.join();
    }
    server_.reset();
  }

  static HttpServerOptions Options() {
    HttpServerOptions options;
    options.listen = "127.0.0.1:0";
    return options;
  }

  // Creates the server with the test routes and starts it; the loop then runs on a background
  // thread.
  void StartServer(HttpServerOptions options) {
    server_ = std::make_unique<HttpServer>(io_, std::move(options));
    server_->Handle("/metrics", [](const HttpRequest&) {
      HttpResponse response;
      response.content_type = "text/plain; version=0.0.4";
      response.body = "up 1\n";
      response.headers.emplace_back("X-Test", "yes");
      response.headers.emplace_back("Bad\r\nHeader", "injected");
      return response;
    });
    server_->Handle("/a b", [this](const HttpRequest& request) {
      std::lock_guard lock(mutex_);
      last_request_ = request;
      return HttpResponse{};
    });
    server_->Handle("/throw", [](const HttpRequest&) -> HttpResponse {
      throw std::runtime_error("handler bug");
    });
    const Status status = server_->Start();
    ASSERT_TRUE(status.ok()) << status.message();
    port_ = server_->BoundPort();
    thread_ = std::thread([this] { io_.run(); });
  }

  // Runs f on the loop thread (where the server must be used) and returns its result.
  template <class F>
  auto OnLoop(F f) -> decltype(f()) {
    std::packaged_task<decltype(f())()> task(std::move(f));
    auto result = task.get_future();
    net::post(io_, [&task] { task(); });
    return result.get();
  }

  HttpServerStats Stats() {
    return OnLoop([this] { return server_->Stats(); });
  }

  // Counters may lag what a client sees by one loop iteration.
  bool WaitForStats(const std::function<bool(const HttpServerStats&)>& predicate) {
    const auto deadline = Clock::now() + milliseconds(2000);
    while (Clock::now() < deadline) {
      if (predicate(Stats())) return true;
      std::this_thread::sleep_for(milliseconds(10));
    }
    return predicate(Stats());
  }

  // Waits until the counter `field` equals `value`.
  template <class T>
  bool WaitForStat(T HttpServerStats::*field, std::type_identity_t<T> value) {
    return WaitForStats([&](const HttpServerStats& s) { return s.*field == value; });
  }

  std::optional<RawResponse> Fetch(const std::string& path, const std::string& extra = "") {
    Client client(port_);
    if (!client.connected()) return std::nullopt;
    return client.Fetch(path, extra);
  }

  // Leaves `idle` kept alive after one answered request and `partial` in the middle of a request
  // head.
  static void ServeOneAndStartAnother(Client& idle, Client& partial) {
    ASSERT_TRUE(idle.Fetch("/metrics"));
    ASSERT_TRUE(partial.Send("GET /metrics HTTP/1.1\r\n"));
  }

  std::string Url(const std::string& scheme, const std::string& path) const {
    return scheme + "://127.0.0.1:" + std::to_string(port_) + path;
  }

  net::io_context io_;
  net::executor_work_guard<net::io_context::executor_type> work_ = net::make_work_guard(io_);
  std::unique_ptr<HttpServer> server_;
  std::thread thread_;
  std::uint16_t port_ = 0;
  std::mutex mutex_;
  std::optional<HttpRequest> last_request_;
};

TEST_F(HttpServerTest, serves_registered_route_with_headers) {
  StartServer(Options());
  auto response = Fetch("/metrics");
  ASSERT_TRUE(HasStatus(response, 200));
  EXPECT_EQ(response->body, "up 1\n");
  EXPECT_EQ(response->headers["content-type"], "text/plain; version=0.0.4");
  EXPECT_EQ(response->headers["content-length"], "5");
  EXPECT_EQ(response->headers["server"], "tacho");
  EXPECT_EQ(response->headers["x-test"], "yes");
  EXPECT_EQ(response->headers.count("bad"), 0u);
  EXPECT_EQ(response->headers.count("header"), 0u);
  EXPECT_EQ(Stats().requests, 1u);
}

TEST_F(HttpServerTest, unknown_path_returns_404) {
  StartServer(Options());
  auto response = Fetch("/nope");
  ASSERT_TRUE(HasStatus(response, 404));
}

TEST_F(HttpServerTest, other_methods_return_405_with_allow) {
  StartServer(Options());
  Client client(port_);
  auto response =
      client.Exchange("POST /metrics HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc");
  ASSERT_TRUE(HasStatus(response, 405));
  EXPECT_EQ(response->headers["allow"], "GET, HEAD");
  // The body was consumed, so the connection is still usable.
  response = client.Exchange("DELETE /nope HTTP/1.1\r\nHost: t\r\n\r\n");
  ASSERT_TRUE(HasStatus(response, 405));
}

TEST_F(HttpServerTest, head_returns_length_without_body) {
  StartServer(Options());
  Client client(port_);
  ASSERT_TRUE(client.Send("HEAD /metrics HTTP/1.1\r\nHost: t\r\n\r\n"));
  auto response = client.Read(/*head=*/true);
  ASSERT_TRUE(HasStatus(response, 200));
  EXPECT_EQ(response->headers["content-length"], "5");
  EXPECT_EQ(response->headers["content-type"], "text/plain; version=0.0.4");
  // Any body bytes would be parsed as the start of the next response.
  EXPECT_TRUE(client.Silent(milliseconds(100)));
  response = client.Fetch("/metrics");
  ASSERT_TRUE(HasStatus(response, 200));
  EXPECT_EQ(response->body, "up 1\n");
}

TEST_F(HttpServerTest, keep_alive_serves_two_requests_on_one_connection) {
  StartServer(Options());
  Client client(port_);
  auto first = client.Fetch("/metrics");
  ASSERT_TRUE(HasStatus(first, 200));
  EXPECT_EQ(first->headers.count("connection"), 0u);
  auto second = client.Fetch("/metrics");
  ASSERT_TRUE(HasStatus(second, 200));
  const HttpServerStats stats = Stats();
  EXPECT_EQ(stats.requests, 2u);
  EXPECT_EQ(stats.open_connections, 1u);
}

TEST_F(HttpServerTest, pipelined_requests_are_answered_in_order) {
  StartServer(Options());
  Client client(port_);
  ASSERT_TRUE(
      client.Send("GET /metrics HTTP/1.1\r\nHost: t\r\n\r\nGET /nope HTTP/1.1\r\nHost: t\r\n\r\n"));
  auto first = client.Read();
  auto second = client.Read();
  ASSERT_TRUE(first && second);
  EXPECT_EQ(first->status, 200);
  EXPECT_EQ(second->status, 404);
}

TEST_F(HttpServerTest, connection_close_is_honoured) {
  StartServer(Options());
  Client client(port_);
  auto response = client.Fetch("/metrics", "Connection: close\r\n");
  ASSERT_TRUE(HasStatus(response, 200));
  EXPECT_EQ(Lower(response->headers["connection"]), "close");
  EXPECT_TRUE(client.WaitClosed());
}

TEST_F(HttpServerTest, request_path_is_decoded_and_query_split) {
  StartServer(Options());
  Client client(port_);
  auto response =
      client.Fetch("/a%20b?x=1&y=%20", "X-Custom-Header: v1\r\nX-Custom-Header: v2\r\n");
  ASSERT_TRUE(HasStatus(response, 200));
  std::lock_guard lock(mutex_);
  ASSERT_TRUE(last_request_);
  EXPECT_EQ(last_request_->method, "GET");
  EXPECT_EQ(last_request_->path, "/a b");
  EXPECT_EQ(last_request_->query, "x=1&y=%20");
  EXPECT_EQ(last_request_->headers["host"], "test");
  EXPECT_EQ(last_request_->headers["x-custom-header"], "v1, v2");
  EXPECT_TRUE(last_request_->remote.starts_with("127.0.0.1:")) << last_request_->remote;
}

TEST_F(HttpServerTest, bad_percent_encoding_returns_400) {
  StartServer(Options());
  Client client(port_);
  ASSERT_TRUE(AnsweredThenClosed(client, Client::GetRequest("/a%2"), 400));
  EXPECT_EQ(Stats().bad_requests, 1u);
}

TEST_F(HttpServerTest, malformed_request_returns_400_and_closes) {
  StartServer(Options());
  Client client(port_);
  ASSERT_TRUE(AnsweredThenClosed(client, "THIS IS NOT HTTP\r\n\r\n", 400));
  EXPECT_TRUE(WaitForStat(&HttpServerStats::bad_requests, 1));
  // The server is unaffected.
  auto again = Fetch("/metrics");
  ASSERT_TRUE(HasStatus(again, 200));
}

TEST_F(HttpServerTest, handler_exception_returns_500_and_server_survives) {
  StartServer(Options());
  Client client(port_);
  auto response = client.Fetch("/throw");
  ASSERT_TRUE(HasStatus(response, 500));
  response = client.Fetch("/metrics");
  ASSERT_TRUE(HasStatus(response, 200));
}

TEST_F(HttpServerTest, port_zero_reports_real_port) {
  StartServer(Options());
  EXPECT_NE(port_, 0);
  EXPECT_EQ(server_->BoundAddress(), "127.0.0.1:" + std::to_string(port_));
  auto response = Fetch("/metrics");
  ASSERT_TRUE(HasStatus(response, 200));
}

TEST_F(HttpServerTest, port_in_use_gives_clear_error) {
  net::ip::tcp::acceptor blocker(io_, {net::ip::make_address("127.0.0.1"), 0});
  const std::string address = "127.0.0.1:" + std::to_string(blocker.local_endpoint().port());
  HttpServerOptions options = Options();
  options.listen = address;
  const Status status = HttpServer(io_, options).Start();
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.message(), "cannot listen on " + address + ": Address already in use");
}

TEST_F(HttpServerTest, invalid_listen_address_is_rejected) {
  for (const std::string listen :
       {"127.0.0.1", "::1:80", "[::1]80", "127.0.0.1:http", "127.0.0.1:70000", "[::1:80"}) {
    HttpServerOptions options = Options();
    options.listen = listen;
    const Status status = HttpServer(io_, options).Start();
    ASSERT_FALSE(status.ok()) << listen;
    EXPECT_NE(status.message().find(listen), std::string::npos) << status.message();
  }
}

TEST_F(HttpServerTest, localhost_is_resolved) {
  HttpServerOptions options = Options();
  options.listen = "localhost:0";
  StartServer(options);
  EXPECT_NE(port_, 0);
  const std::string bound = server_->BoundAddress();
  EXPECT_TRUE(bound == "127.0.0.1:" + std::to_string(port_) ||
              bound == "[::1]:" + std::to_string(port_))
      << bound;
}

TEST_F(HttpServerTest, ipv6_loopback_is_supported) {
  HttpServerOptions options = Options();
  options.listen = "[::1]:0";
  HttpServer probe(io_, options);
  if (!probe.Start().ok()) GTEST_SKIP() << "no IPv6 loopback here";
  probe.Stop();
  StartServer(options);
  EXPECT_EQ(server_->BoundAddress(), "[::1]:" + std::to_string(port_));
  const CommandResult result =
      RunCommand("curl -s -g --max-time 5 http://[::1]:" + std::to_string(port_) + "/metrics");
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(result.output, "up 1\n");
}

TEST_F(HttpServerTest, header_too_large_returns_431) {
  HttpServerOptions options = Options();
  options.max_header_bytes = 1024;
  StartServer(options);
  Client client(port_);
  ASSERT_TRUE(AnsweredThenClosed(
      client, Client::GetRequest("/metrics", "X-Big: " + std::string(4000, 'a') + "\r\n"), 431));
  EXPECT_EQ(Stats().bad_requests, 1u);
}

TEST_F(HttpServerTest, body_too_large_returns_413) {
  HttpServerOptions options = Options();
  options.max_body_bytes = 1000;
  StartServer(options);
  {
    Client client(port_);
    ASSERT_TRUE(
        AnsweredThenClosed(client,
                           "POST /metrics HTTP/1.1\r\nHost: t\r\nContent-Length: 5000\r\n\r\n" +
                               std::string(5000, 'b'),
                           413));
  }
  {
    // Without a declared length the limit trips while reading the body.
    Client client(port_);
    ASSERT_TRUE(
        client.Send("GET /metrics HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                    "7d0\r\n" +
                    std::string(2000, 'c') + "\r\n0\r\n\r\n"));
    auto response = client.Read();
    ASSERT_TRUE(HasStatus(response, 413));
  }
  EXPECT_TRUE(WaitForStat(&HttpServerStats::bad_requests, 2));
}

TEST_F(HttpServerTest, small_body_is_accepted) {
  HttpServerOptions options = Options();
  options.max_body_bytes = 1000;
  StartServer(options);
  Client client(port_);
  auto response = client.Exchange("GET /metrics HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n" +
                                  std::string(10, 'b'));
  ASSERT_TRUE(HasStatus(response, 200));
}

TEST_F(HttpServerTest, slowloris_is_closed_after_header_timeout) {
  HttpServerOptions options = Options();
  options.header_timeout = milliseconds(300);
  StartServer(options);
  Client client(port_);
  const auto start = Clock::now();
  ASSERT_TRUE(client.Send("GET /metrics HTTP/1.1\r\nHost: t\r\n"));
  bool closed = false;
  while (Clock::now() - start < milliseconds(3000)) {
    client.Send("X-Drip: 1\r\n");  // keeps the connection busy, never finishes the head
    if (!client.Silent(milliseconds(50))) {
      closed = client.WaitClosed(milliseconds(100));
      break;
    }
  }
  const auto elapsed = Clock::now() - start;
  EXPECT_TRUE(closed);
  EXPECT_GE(elapsed, milliseconds(250));
  EXPECT_LT(elapsed, milliseconds(1500));
  EXPECT_TRUE(WaitForStat(&HttpServerStats::bad_requests, 1));
  EXPECT_EQ(Stats().requests, 0u);
}

TEST_F(HttpServerTest, silent_connection_is_closed_after_header_timeout) {
  HttpServerOptions options = Options();
  options.header_timeout = milliseconds(300);
  StartServer(options);
  Client client(port_);
  const auto elapsed = TimeUntilClosed(client);
  ASSERT_TRUE(elapsed);
  EXPECT_LT(*elapsed, milliseconds(1500));
}

TEST_F(HttpServerTest, idle_keep_alive_connection_is_closed) {
  HttpServerOptions options = Options();
  options.idle_timeout = milliseconds(300);
  StartServer(options);
  Client client(port_);
  ASSERT_TRUE(client.Fetch("/metrics"));
  const auto elapsed = TimeUntilClosed(client);
  ASSERT_TRUE(elapsed);
  EXPECT_GE(*elapsed, milliseconds(250));
  EXPECT_LT(*elapsed, milliseconds(1500));
  EXPECT_TRUE(WaitForStat(&HttpServerStats::open_connections, 0));
  EXPECT_EQ(Stats().bad_requests, 0u);  // idling is not misbehaviour
}

TEST_F(HttpServerTest, keep_alive_may_idle_longer_than_header_timeout) {
  HttpServerOptions options = Options();
  options.header_timeout = milliseconds(200);
  options.idle_timeout = milliseconds(5000);
  StartServer(options);
  Client client(port_);
  ASSERT_TRUE(client.Fetch("/metrics"));
  std::this_thread::sleep_for(milliseconds(500));
  auto response = client.Fetch("/metrics");
  ASSERT_TRUE(HasStatus(response, 200));
}

TEST_F(HttpServerTest, max_connections_rejects_with_503) {
  HttpServerOptions options = Options();
  options.max_connections = 2;
  StartServer(options);
  auto first = std::make_unique<Client>(port_);
  Client second(port_);
  // A served request proves the server has accepted (and counts) the connection.
  for (Client* client : {first.get(), &second}) {
    auto response = client->Fetch("/metrics");
    ASSERT_TRUE(HasStatus(response, 200));
  }
  {
    Client third(port_);
    ASSERT_TRUE(AnsweredThenClosed(third, Client::GetRequest("/metrics"), 503));
  }
  HttpServerStats stats = Stats();
  EXPECT_EQ(stats.rejected_connections, 1u);
  EXPECT_EQ(stats.open_connections, 2u);

  // Closing one frees its slot.
  first.reset();
  EXPECT_TRUE(WaitForStat(&HttpServerStats::open_connections, 1));
  auto response = Fetch("/metrics");
  ASSERT_TRUE(HasStatus(response, 200));
}

class HttpServerAuthTest : public HttpServerTest {
 protected:
  void SetUp() override {
    HttpServerOptions options = Options();
    const std::string hash = BcryptHash("s3cret");
    ASSERT_FALSE(hash.empty());
    options.basic_auth_users["prometheus"] = hash;
    options.basic_auth_users["other"] = BcryptHash("other-password");
    StartServer(options);
  }
};

TEST_F(HttpServerAuthTest, basic_auth_accepts_valid_credentials) {
  Client client(port_);
  // The second and third requests take the cache path.
  for (int i = 0; i < 3; ++i) {
    auto response = client.Fetch("/a%20b", BasicAuthHeader("prometheus", "s3cret"));
    ASSERT_TRUE(HasStatus(response, 200));
  }
  {
    std::lock_guard lock(mutex_);
    ASSERT_TRUE(last_request_);
    EXPECT_EQ(last_request_->headers.count("authorization"), 0u);  // credentials not passed on
  }
  EXPECT_EQ(Stats().auth_failures, 0u);
}

TEST_F(HttpServerAuthTest, basic_auth_rejects_wrong_password) {
  // A cached success must not let a different password through.
  auto ok = Fetch("/metrics", BasicAuthHeader("prometheus", "s3cret"));
  ASSERT_TRUE(HasStatus(ok, 200));
  for (const std::string password : {"wrong", "s3cret ", "", "other-password"}) {
    auto response = Fetch("/metrics", BasicAuthHeader("prometheus", password));
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 401) << password;
    EXPECT_EQ(response->headers["www-authenticate"], "Basic realm=\"tacho\"");
  }
  EXPECT_EQ(Stats().auth_failures, 4u);
}

TEST_F(HttpServerAuthTest, basic_auth_rejects_unknown_user) {
  // Not even with a password that is valid for a configured user.
  auto response = Fetch("/metrics", BasicAuthHeader("nobody", "s3cret"));
  ASSERT_TRUE(HasStatus(response, 401));
  EXPECT_EQ(response->headers["www-authenticate"], "Basic realm=\"tacho\"");
  EXPECT_EQ(Stats().auth_failures, 1u);
}

TEST_F(HttpServerAuthTest, basic_auth_rejects_missing_header) {
  auto response = Fetch("/metrics");
  ASSERT_TRUE(HasStatus(response, 401));
  EXPECT_EQ(response->headers["www-authenticate"], "Basic realm=\"tacho\"");
  // Unknown paths are not revealed to unauthenticated clients either.
  response = Fetch("/nope");
  ASSERT_TRUE(HasStatus(response, 401));
  EXPECT_EQ(Stats().auth_failures, 2u);
}

TEST_F(HttpServerAuthTest, basic_auth_rejects_malformed_header) {
  for (const std::string& header : std::initializer_list<std::string>{
           "Authorization: Bearer abc\r\n", "Authorization: Basic !!!\r\n",
           "Authorization: Basic " + Base64("no-colon") + "\r\n",
           "Authorization: Basic " + Base64(std::string("prometheus:s3cret\0x", 19)) + "\r\n",
           "Authorization: Basic\r\n"}) {
    auto response = Fetch("/metrics", header);
    ASSERT_TRUE(response) << header;
    EXPECT_EQ(response->status, 401) << header;
  }
}

TEST_F(HttpServerAuthTest, basic_auth_works_with_curl) {
  CommandResult result =
      RunCommand("curl -s --max-time 5 -u prometheus:s3cret " + Url("http", "/metrics"));
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(result.output, "up 1\n");
  result = RunCommand("curl -s --max-time 5 -o /dev/null -w '%{http_code}' -u prometheus:nope " +
                      Url("http", "/metrics"));
  EXPECT_EQ(result.output, "401");
}

TEST_F(HttpServerAuthTest, pipelined_requests_wait_for_verification_in_order) {
  // Each request needs its own bcrypt check (nothing is cached yet); the answers still come back
  // in request order, and auth still comes before 404.
  Client client(port_);
  const std::string bad = BasicAuthHeader("prometheus", "wrong");
  const std::string good = BasicAuthHeader("prometheus", "s3cret");
  ASSERT_TRUE(client.Send("GET /metrics HTTP/1.1\r\nHost: t\r\n" + bad +
                          "\r\nGET /nope HTTP/1.1\r\nHost: t\r\n" + good +
                          "\r\nGET /metrics HTTP/1.1\r\nHost: t\r\n" + good +
                          "\r\nGET /nope HTTP/1.1\r\nHost: t\r\n\r\n"));
  for (int expected : {401, 404, 200, 401}) {
    auto response = client.Read();
    ASSERT_TRUE(response) << expected;
    EXPECT_EQ(response->status, expected);
  }
  EXPECT_EQ(Stats().auth_failures, 2u);
}

// Basic auth with realistic bcrypt costs: verification runs off the event loop and is bounded.
class HttpServerAuthLoadTest : public HttpServerTest {
 protected:
  // The server allows this many bcrypt checks queued or running at once (kMaxPendingVerifications
  // in http_server.cc); further requests that need one get 429.
  static constexpr int kSlots = 4;

  void StartAuthServer(int cost) {
    HttpServerOptions options = Options();
    const std::string hash = BcryptHash("s3cret", cost);
    ASSERT_FALSE(hash.empty());
    options.basic_auth_users["prometheus"] = hash;
    StartServer(options);
  }

  // Sends one request with a wrong password on each of `count` fresh connections, all before
  // reading any answer, so the checks are requested concurrently.
  std::vector<std::unique_ptr<Client>> SendBadPasswords(int count) {
    std::vector<std::unique_ptr<Client>> clients;
    for (int i = 0; i < count; ++i) {
      clients.push_back(std::make_unique<Client>(port_));
      EXPECT_TRUE(clients.back()->connected());
    }
    for (int i = 0; i < count; ++i) {
      EXPECT_TRUE(
          clients[i]->Get("/metrics", BasicAuthHeader("prometheus", "wrong-" + std::to_string(i))));
    }
    return clients;
  }

  const std::string good_ = BasicAuthHeader("prometheus", "s3cret");
};

TEST_F(HttpServerAuthLoadTest, bad_password_flood_does_not_stall_cached_requests) {
  StartAuthServer(10);
  // The first success is verified (off the loop) and cached.
  auto warm = Fetch("/metrics", good_);
  ASSERT_TRUE(warm);
  ASSERT_EQ(warm->status, 200);

  // Many more attacking connections than slots, each pipelining bursts of bad passwords and kept
  // alive. Before verification moved off the loop, each of those requests blocked it ~50 ms, so a
  // scraper waited behind every attacking connection for each step (accept, read) of its request.
  constexpr int kAttackers = 8;
  constexpr int kConnectionsPerAttacker = 2;
  constexpr int kBurst = 4;
  std::atomic<bool> stop{false};
  std::atomic<int> unauthorized{0};
  std::atomic<int> busy{0};
  std::atomic<int> unexpected{0};
  std::vector<std::thread> attackers;
  // Joins the attackers even when an assertion below returns early.
  struct Joiner {
    std::atomic<bool>& stop;
    std::vector<std::thread>& threads;
    ~Joiner() {
      stop = true;
      for (auto& thread : threads) {
        if (thread.joinable()) thread.join();
      }
    }
  } joiner{stop, attackers};
  const auto attack_end = Clock::now() + milliseconds(2000);
  for (int a = 0; a < kAttackers; ++a) {
    attackers.emplace_back([&, a] {
      std::string burst;
      for (int i = 0; i < kBurst; ++i) {
        burst += "GET /metrics HTTP/1.1\r\nHost: t\r\n" +
                 BasicAuthHeader("prometheus", "guess-" + std::to_string(a * kBurst + i)) + "\r\n";
      }
      std::unique_ptr<Client> clients[kConnectionsPerAttacker];
      while (!stop.load() && Clock::now() < attack_end) {
        for (auto& client : clients) {
          if (!client) client = std::make_unique<Client>(port_);
          if (!client->connected() || !client->Send(burst)) {
            ++unexpected;
            client.reset();
          }
        }
        for (auto& client : clients) {
          for (int i = 0; client && i < kBurst; ++i) {
            auto response = client->Read(false, milliseconds(10000));
            if (!response) {
              ++unexpected;
              client.reset();
            } else if (response->status == 401) {
              ++unauthorized;
            } else if (response->status == 429) {
              ++busy;
            } else {
              ++unexpected;
            }
          }
        }
      }
    });
  }

  // Meanwhile a scraper with the (cached) valid credentials keeps getting quick answers, on
  // fresh connections (accept + read + dispatch all need the loop) and on a kept-alive one.
  int served = 0;
  milliseconds slowest{0};
  Client kept(port_);
  ASSERT_TRUE(kept.connected());
  while (Clock::now() < attack_end) {
    for (bool fresh : {true, false}) {
      const auto start = Clock::now();
      std::optional<RawResponse> response;
      if (fresh) {
        response = Fetch("/metrics", good_);
      } else if (kept.Get("/metrics", good_)) {
        response = kept.Read();
      }
      const auto elapsed = std::chrono::duration_cast<milliseconds>(Clock::now() - start);
      slowest = std::max(slowest, elapsed);
      ASSERT_TRUE(response) << (fresh ? "fresh" : "kept-alive") << " after " << elapsed.count()
                            << " ms";
      EXPECT_EQ(response->status, 200);
      EXPECT_LT(elapsed, milliseconds(1000)) << (fresh ? "fresh" : "kept-alive");
      ++served;
    }
    std::this_thread::sleep_for(milliseconds(20));
  }
  stop = true;
  for (auto& thread : attackers) thread.join();

  EXPECT_GT(served, 10) << "slowest " << slowest.count() << " ms";
  EXPECT_GT(unauthorized.load(), 0);
  EXPECT_GT(busy.load(), 0);  // more attackers than slots
  EXPECT_EQ(unexpected.load(), 0);
  const auto failures = static_cast<std::uint64_t>(unauthorized.load() + busy.load());
  const auto all_counted = [failures](const HttpServerStats& s) {
    return s.auth_failures == failures;
  };
  EXPECT_TRUE(WaitForStats(all_counted)) << Stats().auth_failures << " vs " << failures;
}

TEST_F(HttpServerAuthLoadTest, verifications_beyond_the_limit_get_429) {
  StartAuthServer(10);
  constexpr int kClients = 3 * kSlots;
  auto clients = SendBadPasswords(kClients);
  int unauthorized = 0;
  int busy = 0;
  for (auto& client : clients) {
    auto response = client->Read(false, milliseconds(10000));
    ASSERT_TRUE(response);
    if (response->status == 429) {
      ++busy;
      EXPECT_EQ(response->headers["retry-after"], "1");
      EXPECT_EQ(response->headers.count("www-authenticate"), 0u);
    } else {
      EXPECT_EQ(response->status, 401);
      EXPECT_EQ(response->headers["www-authenticate"], "Basic realm=\"tacho\"");
      ++unauthorized;
    }
  }
  EXPECT_GE(busy, 1);
  EXPECT_GE(unauthorized, kSlots);  // the first ones to arrive were all verified
  EXPECT_EQ(busy + unauthorized, kClients);
  EXPECT_TRUE(WaitForStat(&HttpServerStats::auth_failures, kClients));
  // The 429 kept the connection open, and once the slots are free again a first login with the
  // right password is verified normally.
  for (auto& client : clients) {
    ASSERT_TRUE(client->Get("/metrics", good_));
    auto response = client->Read(false, milliseconds(10000));
    ASSERT_TRUE(HasStatus(response, 200));
  }
}

TEST_F(HttpServerAuthLoadTest, stop_during_verification_closes_the_connection) {
  StartAuthServer(12);  // ~200 ms per check: the first is running, the others queued
  auto clients = SendBadPasswords(kSlots);
  ASSERT_TRUE(WaitForStat(&HttpServerStats::requests, kSlots));
  const auto start = Clock::now();
  OnLoop([this] { server_->Stop(); });
  // Stop waits for at most the check already running.
  EXPECT_LT(Clock::now() - start, milliseconds(1000));
  for (auto& client : clients) EXPECT_TRUE(client->WaitClosed());
  EXPECT_TRUE(WaitForStat(&HttpServerStats::open_connections, 0));
  // Completions that were already on their way find nothing to do.
  std::this_thread::sleep_for(milliseconds(300));
  EXPECT_EQ(Stats().auth_failures, 0u);
}

TEST_F(HttpServerAuthLoadTest, destroying_server_during_verification_is_safe) {
  StartAuthServer(12);
  auto clients = SendBadPasswords(kSlots);
  ASSERT_TRUE(WaitForStat(&HttpServerStats::requests, kSlots));
  const auto start = Clock::now();
  OnLoop([this] { server_.reset(); });
  EXPECT_LT(Clock::now() - start, milliseconds(1000));
  for (auto& client : clients) EXPECT_TRUE(client->WaitClosed());
  // The loop drains aborted operations and any late completion without touching freed state.
  std::this_thread::sleep_for(milliseconds(300));
  OnLoop([] {});
}

TEST_F(HttpServerTest, invalid_bcrypt_hash_is_rejected_at_start) {
  HttpServerOptions options = Options();
  options.basic_auth_users["prometheus"] = "plaintext-password";
  const Status status = HttpServer(io_, options).Start();
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("prometheus"), std::string::npos) << status.message();
  EXPECT_EQ(status.message().find("plaintext-password"), std::string::npos) << status.message();
}

class HttpServerTlsTest : public HttpServerTest {
 protected:
  void SetUp() override {
    if (!TlsFiles::Get().ok()) GTEST_FAIL() << "openssl could not create a test certificate";
  }
  static HttpServerOptions TlsOptions() {
    HttpServerOptions options = Options();
    options.tls_cert_file = TlsFiles::Get().cert();
    options.tls_key_file = TlsFiles::Get().key();
    return options;
  }
  CommandResult Curl(const std::string& args) {
    return RunCommand("curl -sk --max-time 5 " + args + " 2>&1");
  }
  // Passes when curl with `args` exits 0 and prints the /metrics body.
  ::testing::AssertionResult CurlServesMetrics(const std::string& args) {
    const CommandResult result = Curl(args);
    if (result.exit_code == 0 && result.output == "up 1\n") return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "exit " << result.exit_code << ": " << result.output;
  }
};

TEST_F(HttpServerTlsTest, serves_https) {
  StartServer(TlsOptions());
  EXPECT_TRUE(CurlServesMetrics(Url("https", "/metrics")));
  // Two requests on one kept-alive TLS connection, headers included.
  const CommandResult result =
      Curl("-D - " + Url("https", "/metrics") + " " + Url("https", "/nope"));
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("HTTP/1.1 200"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("HTTP/1.1 404"), std::string::npos) << result.output;
  EXPECT_NE(Lower(result.output).find("server: tacho"), std::string::npos) << result.output;
  const HttpServerStats stats = Stats();
  EXPECT_EQ(stats.requests, 3u);
  EXPECT_EQ(stats.bad_requests, 0u);
}

TEST_F(HttpServerTlsTest, https_with_basic_auth) {
  HttpServerOptions options = TlsOptions();
  options.basic_auth_users["prometheus"] = BcryptHash("s3cret");
  StartServer(options);
  EXPECT_TRUE(CurlServesMetrics("-u prometheus:s3cret " + Url("https", "/metrics")));
  const CommandResult result = Curl("-o /dev/null -w '%{http_code}' " + Url("https", "/metrics"));
  EXPECT_EQ(result.output, "401");
}

TEST_F(HttpServerTlsTest, plain_http_to_tls_port_fails_cleanly) {
  StartServer(TlsOptions());
  {
    Client client(port_);
    ASSERT_TRUE(client.Get("/metrics"));
    EXPECT_TRUE(client.WaitClosed());
  }
  const CommandResult plain = Curl(Url("http", "/metrics"));
  EXPECT_NE(plain.exit_code, 0);
  EXPECT_TRUE(WaitForStats([](const HttpServerStats& s) { return s.bad_requests >= 1; }));
  // The server is still healthy.
  EXPECT_TRUE(CurlServesMetrics(Url("https", "/metrics")));
}

TEST_F(HttpServerTlsTest, tls_1_1_is_refused) {
  HttpServerOptions options = TlsOptions();
  options.header_timeout = milliseconds(1000);
  StartServer(options);
  namespace ssl = boost::asio::ssl;
  net::io_context client_io;
  const net::ip::tcp::endpoint endpoint(net::ip::make_address("127.0.0.1"), port_);
  auto handshake = [&](int max_version) {
    ssl::context context(ssl::context::tls_client);
    SSL_CTX_set_security_level(context.native_handle(), 0);
    SSL_CTX_set_cipher_list(context.native_handle(), "DEFAULT:@SECLEVEL=0");
    SSL_CTX_set_min_proto_version(context.native_handle(), TLS1_VERSION);
    SSL_CTX_set_max_proto_version(context.native_handle(), max_version);
    context.set_verify_mode(ssl::verify_none);
    ssl::stream<net::ip::tcp::socket> stream(client_io, context);
    boost::system::error_code ec;
    stream.next_layer().connect(endpoint, ec);
    if (!ec) stream.handshake(ssl::stream_base::client, ec);
    return ec;
  };
  // The alert shows the server refused, not a client unable to offer TLS 1.1.
  const auto refused = handshake(TLS1_1_VERSION);
  EXPECT_NE(refused.message().find("protocol version"), std::string::npos) << refused.message();
  EXPECT_FALSE(handshake(TLS1_2_VERSION));
  EXPECT_FALSE(handshake(TLS1_3_VERSION));
}

TEST_F(HttpServerTlsTest, connections_over_the_limit_are_closed) {
  HttpServerOptions options = TlsOptions();
  options.max_connections = 1;
  StartServer(options);
  auto holder = std::make_unique<Client>(port_);  // occupies the slot while its handshake waits
  ASSERT_TRUE(WaitForStat(&HttpServerStats::open_connections, 1));
  EXPECT_NE(Curl(Url("https", "/metrics")).exit_code, 0);
  EXPECT_EQ(Stats().rejected_connections, 1u);
  holder.reset();
  ASSERT_TRUE(WaitForStat(&HttpServerStats::open_connections, 0));
  EXPECT_TRUE(CurlServesMetrics(Url("https", "/metrics")));
}

TEST_F(HttpServerTlsTest, handshake_is_bounded_by_header_timeout) {
  HttpServerOptions options = TlsOptions();
  options.header_timeout = milliseconds(300);
  StartServer(options);
  Client client(port_);
  const auto elapsed = TimeUntilClosed(client, std::string("\x16\x03\x01", 3));  // a record's start
  ASSERT_TRUE(elapsed);
  EXPECT_LT(*elapsed, milliseconds(1500));
  EXPECT_TRUE(WaitForStat(&HttpServerStats::bad_requests, 1));
}

TEST_F(HttpServerTlsTest, bad_certificate_path_names_the_file) {
  HttpServerOptions options = TlsOptions();
  options.tls_cert_file = TlsFiles::Get().dir() + "/missing-cert.pem";
  const Status status = HttpServer(io_, options).Start();
  ASSERT_FALSE(status.ok());
  EXPECT_TRUE(
      status.message().starts_with("cannot load TLS certificate " + options.tls_cert_file + ": "))
      << status.message();
}

TEST_F(HttpServerTlsTest, bad_key_names_the_file) {
  HttpServerOptions options = TlsOptions();
  options.tls_key_file = TlsFiles::Get().cert();  // a PEM file, but not a key
  const Status status = HttpServer(io_, options).Start();
  ASSERT_FALSE(status.ok());
  EXPECT_TRUE(status.message().starts_with("cannot load TLS key " + options.tls_key_file + ": "))
      << status.message();
}

TEST_F(HttpServerTest, stop_closes_open_connections) {
  StartServer(Options());
  Client idle(port_);
  Client partial(port_);
  ASSERT_NO_FATAL_FAILURE(ServeOneAndStartAnother(idle, partial));
  EXPECT_TRUE(WaitForStat(&HttpServerStats::open_connections, 2));
  OnLoop([this] { server_->Stop(); });
  EXPECT_TRUE(idle.WaitClosed());
  EXPECT_TRUE(partial.WaitClosed());
  EXPECT_FALSE(Client(port_).connected());
  EXPECT_TRUE(WaitForStat(&HttpServerStats::open_connections, 0));
}

TEST_F(HttpServerTest, destroying_server_with_pending_operations_is_safe) {
  StartServer(Options());
  Client idle(port_);
  Client partial(port_);
  ASSERT_NO_FATAL_FAILURE(ServeOneAndStartAnother(idle, partial));
  Client fresh(port_);
  EXPECT_TRUE(WaitForStat(&HttpServerStats::open_connections, 3));
  OnLoop([this] { server_.reset(); });
  EXPECT_TRUE(idle.WaitClosed());
  EXPECT_TRUE(partial.WaitClosed());
  EXPECT_TRUE(fresh.WaitClosed());
  // The loop drains the aborted operations without touching freed state.
  OnLoop([] {});
}

TEST_F(HttpServerTest, destroying_server_without_running_loop_is_safe) {
  auto io = std::make_unique<net::io_context>();
  auto server = std::make_unique<HttpServer>(*io, Options());
  ASSERT_TRUE(server->Start().ok());
  server.reset();  // the accept operation is still queued
  io->run();
  io.reset();
}

}  // namespace
}  // namespace tacho::exporters
