#pragma once
// `gpbo serve`: the study API over HTTP/JSON (docs/openapi.yaml), on cpp-httplib. Thin: every
// route parses and validates its request, calls a StudyService, and writes the JSON forms the
// CLI prints. Errors become HTTP codes with {"error": {"code", "message"}}
// (service/error_table.hpp).

#include <atomic>
#include <cstddef>
#include <memory>
#include <string>

#include "service/study_service.hpp"

namespace gpbo::server {

struct ServerOptions {
  std::string host = "127.0.0.1";
  /// 0 picks a free port (see HttpServer::bind).
  int port = 8470;
  /// Bearer token every endpoint but /v1/health requires; empty: none (loopback hosts only).
  std::string token;
  /// Largest request body accepted; larger ones get 413 before anything is parsed.
  std::size_t max_body_bytes = 1 << 20;
  /// Largest q of one ask.
  int max_batch = 1024;
  /// Threads that serve connections (each holds one connection at a time).
  int threads = 16;
};

/// The longest worker id an ask accepts.
constexpr std::size_t kMaxWorkerIdLength = 256;

class HttpServer {
 public:
  /// Validates the options: InvalidArgument for a non-loopback host without a token, or limits
  /// out of range. Nothing listens until bind().
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
