#pragma once
// `gpbo serve`: the study API over HTTP/JSON (docs/openapi.yaml), on cpp-httplib. Thin: every
// route parses and validates its request, calls a StudyService, and writes the JSON forms the
// CLI prints. Errors become HTTP codes with {"error": {"code", "message"}}
// (service/error_table.hpp).

#include <atomic>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "service/study_service.hpp"
#include "service/token.hpp"

namespace gpbo::server {

struct ServerOptions {
  std::string host = "127.0.0.1";
  /// 0 picks a free port (see HttpServer::bind).
  int port = 8470;
  /// A bearer token with the admin role, named "default" (today's single token); empty: none.
  std::string token;
  /// Named tokens with roles (service/token.hpp), besides `token`. With neither, every request is
  /// served without a token (loopback hosts only).
  std::vector<service::TokenEntry> tokens;
  /// PEM certificate chain and private key: serve HTTPS. Both or neither.
  std::string tls_cert;
  std::string tls_key;
  /// Serve tokens over plain HTTP on a non-loopback host (refused without this).
  bool insecure_http = false;
  /// Largest request body accepted; larger ones get 413 before anything is parsed.
  std::size_t max_body_bytes = 1 << 20;
  /// Largest q of one ask.
  int max_batch = 1024;
  /// Threads that serve connections (each holds one connection at a time).
  int threads = 16;
  /// Accepted connections that may wait for a thread; more get 429 with Retry-After.
  int queue_limit = 256;
  /// Requests per second each token (by name; tokenless servers: everyone together) may make,
  /// sustained, with bursts up to `rate_burst`; 0: no limit. Over it: 429 with Retry-After.
  double rate_per_second = 0;
  int rate_burst = 0;
  /// Seconds a client has to send a whole request head (counted from its first byte, so a
  /// client that trickles bytes is cut off; plain HTTP) and that any read may wait.
  int read_timeout_seconds = 5;
  /// Seconds one request may take to read its body and write its reply (plain HTTP).
  int request_timeout_seconds = 30;
  /// Requests one keep-alive connection may carry.
  int keep_alive_max_count = 100;
};

/// The longest worker id an ask accepts.
constexpr std::size_t kMaxWorkerIdLength = 256;

class HttpServer {
 public:
  /// Validates the options: InvalidArgument for a non-loopback host without a token, tokens on a
  /// non-loopback host without TLS (unless insecure_http), unreadable TLS files, or limits out
  /// of range. Nothing listens until bind().
  HttpServer(std::shared_ptr<service::StudyService> api, ServerOptions options);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  /// Binds the listening socket; returns the port (the chosen one for port 0). Throws Error
  /// when the address cannot be bound.
  int bind();
  /// Serves until stop(); returns then. Call bind() first.
  void run();
  /// Stops run() (from any thread, before or while it runs); requests in flight finish first.
  void stop();
  /// Blocks until run() is accepting connections or has returned.
  void wait_until_running() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace gpbo::server
