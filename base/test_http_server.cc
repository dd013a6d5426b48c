#include "base/test_http_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace tacho::base::testing {
namespace {

X509* MakeCert(EVP_PKEY* key, X509* issuer, EVP_PKEY* issuer_key, const char* cn,
               const std::string& san, bool ca) {
  static long serial = 1;
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), serial++);
  X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert), 86400);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn),
                             -1, -1, 0);
  X509_set_issuer_name(cert, issuer ? X509_get_subject_name(issuer) : name);
  X509V3_CTX v3;
  X509V3_set_ctx(&v3, issuer ? issuer : cert, cert, nullptr, nullptr, 0);
  auto add = [&](int nid, const std::string& value) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &v3, nid, value.c_str());
    EXPECT_NE(ext, nullptr) << value;
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
  };
  if (ca) {
    add(NID_basic_constraints, "critical,CA:TRUE");
    add(NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    add(NID_basic_constraints, "CA:FALSE");
    add(NID_subject_alt_name, san);
    add(NID_ext_key_usage, "serverAuth");
  }
  X509_sign(cert, issuer_key ? issuer_key : key, EVP_sha256());
  return cert;
}

void WritePem(X509* cert, const std::string& path) {
  FILE* f = fopen(path.c_str(), "w");
  ASSERT_NE(f, nullptr) << path;
  PEM_write_X509(f, cert);
  fclose(f);
}

// The Content-Length of a request header, 0 without one.
std::size_t ContentLength(const std::string& header) {
  for (const char* name : {"\r\nContent-Length:", "\r\ncontent-length:"}) {
    const std::size_t at = header.find(name);
    if (at != std::string::npos) return std::strtoul(header.c_str() + at + 17, nullptr, 10);
  }
  return 0;
}

}  // namespace

TestPki::TestPki() {
  static int instance = 0;
  dir_ = std::filesystem::temp_directory_path() /
         ("tacho_test_pki_" + std::to_string(getpid()) + "_" + std::to_string(instance++));
  std::filesystem::create_directories(dir_);
  ca_key_ = EVP_EC_gen("P-256");
  ca_ = MakeCert(ca_key_, nullptr, nullptr, "tacho test CA", "", true);
  WritePem(ca_, ca_file());
}

TestPki::~TestPki() {
  X509_free(ca_);
  EVP_PKEY_free(ca_key_);
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

SSL_CTX* TestPki::ServerContext(const std::string& san) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* cert = MakeCert(key, ca_, ca_key_, "app", san, false);
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  EXPECT_EQ(SSL_CTX_use_certificate(ctx, cert), 1);
  EXPECT_EQ(SSL_CTX_use_PrivateKey(ctx, key), 1);
  X509_free(cert);
  EVP_PKEY_free(key);
  return ctx;
}

int ListenOnLoopback(int* port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  EXPECT_EQ(listen(fd, 16), 0);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  *port = ntohs(addr.sin_port);
  return fd;
}

FakeEndpoint::FakeEndpoint(Responder respond, SSL_CTX* tls, bool silent)
    : respond_(std::move(respond)), tls_(tls) {
  fd_ = ListenOnLoopback(&port_);
  if (!silent) thread_ = std::thread([this] { Serve(); });
}

FakeEndpoint::~FakeEndpoint() {
  shutdown(fd_, SHUT_RDWR);
  if (thread_.joinable()) thread_.join();
  close(fd_);
  if (tls_ != nullptr) SSL_CTX_free(tls_);
}

std::string FakeEndpoint::last_request() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_request_;
}

std::string FakeEndpoint::last_server_name() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_server_name_;
}

int FakeEndpoint::connections() const {
  std::lock_guard<std::mutex> lock(mu_);
  return connections_;
}

std::string FakeEndpoint::Ok(const std::string& body, const std::string& content_type) {
  return "HTTP/1.1 200 OK\r\nContent-Type: " + content_type +
         "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

void FakeEndpoint::Serve() {
  while (true) {
    const int c = accept(fd_, nullptr, nullptr);
    if (c < 0) return;
    timeval tv{5, 0};
    setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    SSL* ssl = nullptr;
    if (tls_ != nullptr) {
      ssl = SSL_new(tls_);
      SSL_set_fd(ssl, c);
      if (SSL_accept(ssl) != 1) {  // the client refused the certificate
        SSL_free(ssl);
        close(c);
        continue;
      }
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++connections_;
      const char* sni = ssl ? SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name) : nullptr;
      last_server_name_ = sni ? sni : "";
    }
    std::string request;
    char buf[4096];
    auto complete = [&request] {
      const std::size_t end = request.find("\r\n\r\n");
      return end != std::string::npos &&
             request.size() >= end + 4 + ContentLength(request.substr(0, end));
    };
    while (!complete()) {
      const int n =
          ssl ? SSL_read(ssl, buf, sizeof buf) : static_cast<int>(recv(c, buf, sizeof buf, 0));
      if (n <= 0) break;
      request.append(buf, static_cast<std::size_t>(n));
      if (request[0] == 0x16) break;  // a TLS ClientHello sent to the plain server
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      last_request_ = request;
    }
    const std::string response = respond_(request);
    std::size_t sent = 0;
    while (sent < response.size()) {
      const int n =
          ssl ? SSL_write(ssl, response.data() + sent, static_cast<int>(response.size() - sent))
              : static_cast<int>(
                    send(c, response.data() + sent, response.size() - sent, MSG_NOSIGNAL));
      if (n <= 0) break;
      sent += static_cast<std::size_t>(n);
    }
    if (ssl != nullptr) {
      SSL_shutdown(ssl);
      SSL_free(ssl);
    }
    close(c);
  }
}

}  // namespace tacho::base::testing
