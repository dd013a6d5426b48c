#include "base/http_client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <string>
#include <thread>

#include "base/build_info.h"
#include "base/test_http_server.h"

namespace tacho::base {
namespace {

using std::chrono::milliseconds;
using testing::FakeEndpoint;
using testing::TestPki;
using Clock = std::chrono::steady_clock;

HttpRequest Get(const FakeEndpoint& server, const std::string& target = "/metrics",
                const std::string& scheme = "http", const std::string& host = "127.0.0.1") {
  HttpRequest request;
  request.url = {scheme, host, std::to_string(server.port()), target};
  request.deadline = Clock::now() + milliseconds(5000);
  return request;
}

std::string Prefix(const FakeEndpoint& server, const std::string& path = "/metrics") {
  return "GET http://127.0.0.1:" + std::to_string(server.port()) + path + ": ";
}

TEST(HttpClientTest, get_returns_status_headers_and_body) {
  FakeEndpoint server([](const std::string&) { return FakeEndpoint::Ok("up 1\n"); });
  HttpRequest request = Get(server, "/metrics?x=1");
  request.headers = {{"X-Probe", "one"}};
  const HttpResponse response = HttpFetch(request);
  ASSERT_TRUE(response.ok()) << response.error;
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "up 1\n");
  EXPECT_EQ(response.content_type, "text/plain; version=0.0.4");
  const std::string sent = server.last_request();
  EXPECT_EQ(sent.rfind("GET /metrics?x=1 HTTP/1.1\r\n", 0), 0u) << sent;
  EXPECT_NE(sent.find("Host: 127.0.0.1:" + std::to_string(server.port()) + "\r\n"),
            std::string::npos);
  EXPECT_NE(sent.find(std::string("User-Agent: tacho/") + kVersion + "\r\n"), std::string::npos);
  EXPECT_NE(sent.find("Connection: close\r\n"), std::string::npos);
  EXPECT_NE(sent.find("X-Probe: one\r\n"), std::string::npos);
  EXPECT_EQ(sent.find("Accept-Encoding"), std::string::npos) << sent;
  EXPECT_EQ(sent.find("Content-Length"), std::string::npos) << sent;
}

TEST(HttpClientTest, post_on_the_callers_loop_calls_done_once_with_the_response) {
  FakeEndpoint server([](const std::string&) {
    return std::string("HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\nok");
  });
  HttpRequest request = Get(server, "/hook");
  request.method = HttpMethod::kPost;
  request.body = R"({"status":"firing"})";
  request.content_type = "application/json";
  boost::asio::io_context io;
  int calls = 0;
  HttpResponse response;
  std::thread::id called_on;
  HttpFetchAsync(io, request, [&](HttpResponse r) {
    ++calls;
    called_on = std::this_thread::get_id();
    response = std::move(r);
  });
  EXPECT_EQ(calls, 0) << "done must not run inside HttpFetchAsync";
  io.run();
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(called_on, std::this_thread::get_id());
  ASSERT_TRUE(response.ok()) << response.error;
  EXPECT_EQ(response.status, 202);
  EXPECT_EQ(response.body, "ok");
  const std::string sent = server.last_request();
  EXPECT_EQ(sent.rfind("POST /hook HTTP/1.1\r\n", 0), 0u) << sent;
  EXPECT_NE(sent.find("Content-Type: application/json\r\n"), std::string::npos) << sent;
  EXPECT_NE(sent.find("Content-Length: 19\r\n"), std::string::npos) << sent;
  EXPECT_EQ(sent.substr(sent.size() - 19), R"({"status":"firing"})");
}

TEST(HttpClientTest, chunked_body_is_decoded) {
  FakeEndpoint server([](const std::string&) {
    return std::string(
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nup 1\n\r\n6\r\nx "
        "2.5\n\r\n0\r\n\r\n");
  });
  const HttpResponse response = HttpFetch(Get(server));
  ASSERT_TRUE(response.ok()) << response.error;
  EXPECT_EQ(response.body, "up 1\nx 2.5\n");
}

TEST(HttpClientTest, status_outside_2xx_fails_with_retry_after_and_body) {
  FakeEndpoint server([](const std::string&) {
    return std::string(
        "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 120\r\nContent-Length: 4\r\n\r\nbusy");
  });
  const HttpResponse response = HttpFetch(Get(server));
  EXPECT_EQ(response.reason, "http_status");
  EXPECT_EQ(response.status, 503);
  EXPECT_EQ(response.error, Prefix(server) + "HTTP 503 Service Unavailable");
  EXPECT_EQ(response.retry_after, "120");
  EXPECT_EQ(response.body, "busy");
}

TEST(HttpClientTest, redirect_is_not_followed_and_names_location_without_its_query) {
  FakeEndpoint server([](const std::string&) {
    return std::string(
        "HTTP/1.1 302 Found\r\nLocation: https://sso.example/login?token=s3cret\r\n"
        "Content-Length: 0\r\n\r\n");
  });
  const HttpResponse response = HttpFetch(Get(server, "/old"));
  EXPECT_EQ(response.reason, "http_status");
  EXPECT_EQ(response.status, 302);
  EXPECT_EQ(response.location, "https://sso.example/login?token=s3cret");
  EXPECT_EQ(response.error, Prefix(server, "/old") +
                                "HTTP 302 Found (redirects are not followed; Location: "
                                "https://sso.example/login)");
  EXPECT_EQ(server.connections(), 1);
}

TEST(HttpClientTest, body_over_the_limit_is_too_large) {
  FakeEndpoint server([](const std::string&) { return FakeEndpoint::Ok(std::string(4096, 'x')); });
  HttpRequest request = Get(server);
  request.body_limit = 1024;
  const HttpResponse response = HttpFetch(request);
  EXPECT_EQ(response.reason, "too_large");
  EXPECT_EQ(response.error, Prefix(server) + "the response body from 127.0.0.1:" +
                                std::to_string(server.port()) + " exceeds the limit of 1024 bytes");
  EXPECT_TRUE(response.body.empty());
}

TEST(HttpClientTest, identity_encoding_asks_for_and_insists_on_an_uncompressed_body) {
  FakeEndpoint server([](const std::string&) {
    return std::string("HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 3\r\n\r\nabc");
  });
  HttpRequest request = Get(server);
  EXPECT_TRUE(HttpFetch(request).ok()) << "without identity_encoding a coded body is returned";
  request.identity_encoding = true;
  const HttpResponse response = HttpFetch(request);
  EXPECT_NE(server.last_request().find("Accept-Encoding: identity\r\n"), std::string::npos);
  EXPECT_EQ(response.reason, "compressed");
  EXPECT_EQ(response.error, Prefix(server) +
                                "the response is compressed (Content-Encoding: gzip) although "
                                "identity was requested");
}

TEST(HttpClientTest, deadline_expiry_is_a_timeout_at_the_deadline) {
  FakeEndpoint server([](const std::string&) { return std::string(); }, nullptr, true);
  HttpRequest request = Get(server);
  request.deadline = Clock::now() + milliseconds(300);
  const auto start = Clock::now();
  const HttpResponse response = HttpFetch(request);
  const auto took = Clock::now() - start;
  EXPECT_EQ(response.reason, "timeout");
  EXPECT_EQ(response.error, Prefix(server) + "reading the response from 127.0.0.1:" +
                                std::to_string(server.port()) + ": timed out");
  EXPECT_GE(took, milliseconds(250));
  EXPECT_LT(took, milliseconds(1500));
}

TEST(HttpClientTest, deadline_already_past_fails_without_connecting) {
  FakeEndpoint server([](const std::string&) { return FakeEndpoint::Ok(""); });
  HttpRequest request = Get(server);
  request.deadline = Clock::now();
  const HttpResponse response = HttpFetch(request);
  EXPECT_EQ(response.reason, "timeout");
  EXPECT_EQ(response.error, Prefix(server) + "no time left");
  EXPECT_EQ(server.connections(), 0);
}

TEST(HttpClientTest, cancellation_abandons_the_exchange) {
  FakeEndpoint server([](const std::string&) { return std::string(); }, nullptr, true);
  std::atomic<bool> cancelled{false};
  HttpRequest request = Get(server);
  request.deadline = Clock::now() + milliseconds(10000);
  request.cancelled = &cancelled;
  std::thread canceller([&] {
    std::this_thread::sleep_for(milliseconds(200));
    cancelled = true;
  });
  const auto start = Clock::now();
  const HttpResponse response = HttpFetch(request);
  canceller.join();
  EXPECT_LT(Clock::now() - start, milliseconds(2000));
  EXPECT_EQ(response.reason, "cancelled");
  EXPECT_NE(response.error.find(": cancelled"), std::string::npos) << response.error;
}

TEST(HttpClientTest, refused_connection_and_unknown_host_are_connection_failures) {
  int port = 0;
  {
    FakeEndpoint closed([](const std::string&) { return std::string(); }, nullptr, true);
    port = closed.port();
  }
  HttpRequest request;
  request.url = {"http", "127.0.0.1", std::to_string(port), "/"};
  request.deadline = Clock::now() + milliseconds(5000);
  HttpResponse response = HttpFetch(request);
  EXPECT_EQ(response.reason, "connection");
  EXPECT_EQ(response.error, "GET http://127.0.0.1:" + std::to_string(port) +
                                "/: connecting to 127.0.0.1:" + std::to_string(port) +
                                ": Connection refused");

  request.url = {"http", "does-not-exist.invalid", "80", "/"};
  response = HttpFetch(request);
  EXPECT_EQ(response.reason, "connection");
  EXPECT_EQ(response.error.rfind("GET http://does-not-exist.invalid/: resolving "
                                 "does-not-exist.invalid: ",
                                 0),
            0u)
      << response.error;
}

TEST(HttpClientTest, header_values_and_the_query_never_appear_in_errors) {
  FakeEndpoint server([](const std::string& request) {
    // A server that echoes the request, token included, in its error page.
    return "HTTP/1.1 401 Unauthorized\r\nContent-Length: " + std::to_string(request.size()) +
           "\r\n\r\n" + request;
  });
  HttpRequest request = Get(server, "/metrics?token=s3cret");
  request.headers = {{"Authorization", "Bearer s3cret"}};
  HttpResponse response = HttpFetch(request);
  EXPECT_EQ(response.reason, "http_status");
  EXPECT_NE(response.body.find("Bearer s3cret"), std::string::npos) << "the body is the caller's";
  EXPECT_EQ(response.error, "GET http://127.0.0.1:" + std::to_string(server.port()) +
                                "/metrics: HTTP 401 Unauthorized");
  request.deadline = Clock::now() + milliseconds(200);
  FakeEndpoint silent([](const std::string&) { return std::string(); }, nullptr, true);
  request.url.port = std::to_string(silent.port());
  response = HttpFetch(request);
  EXPECT_EQ(response.reason, "timeout");
  EXPECT_EQ(response.error.find("s3cret"), std::string::npos) << response.error;
}

// ---- https ----

TEST(HttpClientTlsTest, untrusted_certificate_fails_with_tls_and_passes_with_ca_file) {
  TestPki pki;
  FakeEndpoint server([](const std::string&) { return FakeEndpoint::Ok("up 1\n"); },
                      pki.ServerContext("IP:127.0.0.1"));
  HttpRequest request = Get(server, "/metrics", "https");
  HttpResponse response = HttpFetch(request);
  EXPECT_EQ(response.reason, "tls");
  EXPECT_EQ(response.error,
            "GET https://127.0.0.1:" + std::to_string(server.port()) +
                "/metrics: TLS handshake with 127.0.0.1:" + std::to_string(server.port()) +
                ": certificate verify failed: unable to get local issuer "
                "certificate");
  request.ca_file = pki.ca_file();
  response = HttpFetch(request);
  ASSERT_TRUE(response.ok()) << response.error;
  EXPECT_EQ(response.body, "up 1\n");
}

TEST(HttpClientTlsTest, names_are_verified_against_dns_and_ip_sans) {
  TestPki pki;
  FakeEndpoint server([](const std::string&) { return FakeEndpoint::Ok("up 1\n"); },
                      pki.ServerContext("DNS:metrics.example"));
  HttpRequest request = Get(server, "/metrics", "https");
  request.ca_file = pki.ca_file();
  HttpResponse response = HttpFetch(request);
  EXPECT_EQ(response.reason, "tls");
  EXPECT_NE(response.error.find("certificate verify failed: IP address mismatch"),
            std::string::npos)
      << response.error;
  request.url.host = "localhost";
  response = HttpFetch(request);
  EXPECT_EQ(response.reason, "tls");
  EXPECT_NE(response.error.find("certificate verify failed: hostname mismatch"), std::string::npos)
      << response.error;
}

TEST(HttpClientTlsTest, sni_is_sent_for_a_host_name_and_not_for_an_ip_literal) {
  TestPki pki;
  FakeEndpoint server([](const std::string&) { return FakeEndpoint::Ok("up 1\n"); },
                      pki.ServerContext("IP:127.0.0.1,DNS:localhost"));
  HttpRequest request = Get(server, "/metrics", "https", "localhost");
  request.ca_file = pki.ca_file();
  HttpResponse response = HttpFetch(request);
  ASSERT_TRUE(response.ok()) << response.error;
  EXPECT_EQ(server.last_server_name(), "localhost");

  request.url.host = "127.0.0.1";
  response = HttpFetch(request);
  ASSERT_TRUE(response.ok()) << response.error;
  EXPECT_EQ(server.connections(), 2);
  EXPECT_EQ(server.last_server_name(), "");
}

TEST(HttpClientTlsTest, unreadable_ca_file_fails_on_the_loop_with_tls) {
  HttpRequest request;
  request.url = {"https", "127.0.0.1", "9", "/"};
  request.ca_file = "/nonexistent/ca.pem";
  request.deadline = Clock::now() + milliseconds(5000);
  boost::asio::io_context io;
  int calls = 0;
  HttpResponse response;
  HttpFetchAsync(io, request, [&](HttpResponse r) {
    ++calls;
    response = std::move(r);
  });
  EXPECT_EQ(calls, 0);
  io.run();
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(response.reason, "tls");
  EXPECT_EQ(
      response.error.rfind("GET https://127.0.0.1:9/: cannot load ca_file /nonexistent/ca.pem", 0),
      0u)
      << response.error;
}

}  // namespace
}  // namespace tacho::base
