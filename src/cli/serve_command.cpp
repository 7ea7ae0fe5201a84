// `gpbo serve`: parses its flags, opens the store and runs server::HttpServer until SIGINT or
// SIGTERM.
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <thread>

#include "cli/commands.hpp"
#include "gpbo/error.hpp"
#include "gpbo/storage.hpp"
#include "server/auth.hpp"
#include "server/server.hpp"
#include "service/study_service.hpp"
#include "service/token.hpp"

namespace gpbo::cli {
namespace {

struct ServeArgs {
  std::string storage;
  std::string listen = "127.0.0.1:8470";
  std::string token_file;
  std::size_t max_body_bytes = 1 << 20;
  int max_batch = 1024;
  int threads = 16;
  std::string tls_cert;
  std::string tls_key;
  bool insecure_http = false;
  int queue_limit = 256;
  double rate_limit = 0;
  int rate_burst = 0;
  int read_timeout = 5;
  int request_timeout = 30;
  gpbo::WarmModelOptions warm;
  bool cold_model = false;
};

int g_stop_pipe[2] = {-1, -1};

void on_stop_signal(int sig) {
  const int saved = errno;
  const unsigned char byte = static_cast<unsigned char>(sig);
  (void)!write(g_stop_pipe[1], &byte, 1);
  errno = saved;
}

int run_serve(const ServeArgs& a) {
  std::string url = a.storage;
  if (url.empty()) {
    if (const char* env = std::getenv("GPBO_STORAGE")) url = env;
  }
  if (url.empty()) throw InvalidArgument("no storage: pass --storage URL or set GPBO_STORAGE");
  const server::ListenAddress addr = server::parse_listen_address(a.listen);
  server::ServerOptions o;
  o.host = addr.host;
  o.port = addr.port;
  o.tokens = service::load_server_tokens(a.token_file);
  o.max_body_bytes = a.max_body_bytes;
  o.max_batch = a.max_batch;
  o.threads = a.threads;
  o.tls_cert = a.tls_cert;
  o.tls_key = a.tls_key;
  o.insecure_http = a.insecure_http;
  o.queue_limit = a.queue_limit;
  o.rate_per_second = a.rate_limit;
  o.rate_burst = a.rate_burst;
  o.read_timeout_seconds = a.read_timeout;
  o.request_timeout_seconds = a.request_timeout;

  std::optional<WarmModelOptions> warm;
  if (!a.cold_model) warm = a.warm;
  auto api = std::make_shared<service::LocalStudyService>(Storage::open(url), warm);
  server::HttpServer http(api, o);
  const int port = http.bind();
  const std::string shown_host =
      o.host.find(':') != std::string::npos ? "[" + o.host + "]" : o.host;
  const std::size_t n_tokens = o.tokens.size();
  std::cout << "gpbo serve: listening on " << (o.tls_cert.empty() ? "http" : "https") << "://"
            << shown_host << ":" << port << " (storage " << url
            << (n_tokens == 0 ? ", no token"
                              : ", bearer token required (" + std::to_string(n_tokens) +
                                    (n_tokens == 1 ? " token)" : " tokens)"))
            << ")" << std::endl;

  // SIGINT/SIGTERM: the handler only writes the signal number to a pipe (async-signal-safe,
  // and it may run on any thread, OpenBLAS's included); a watcher thread reads it and stops the
  // server, which lets the requests in flight finish.
  if (pipe(g_stop_pipe) != 0) throw Error("gpbo serve: cannot create a pipe");
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  std::thread watcher([&] {
    unsigned char sig = 0;
    while (read(g_stop_pipe[0], &sig, 1) < 0 && errno == EINTR) {
    }
    http.stop();
  });
  http.run();
  const unsigned char wake = 0;
  (void)!write(g_stop_pipe[1], &wake, 1);  // run() ended on its own: release the watcher
  watcher.join();
  std::cout << "gpbo serve: stopped" << std::endl;
  return kOk;
}

}  // namespace

std::function<int()> add_serve_command(CLI::App& app) {
  auto a = std::make_shared<ServeArgs>();
  CLI::App* serve = app.add_subcommand(
      "serve", "Serve the studies of a store over HTTP/JSON (docs/openapi.yaml)");
  serve->add_option("--storage", a->storage,
                    "Store URL (sqlite:///path.db, postgresql://user@host/db); default "
                    "$GPBO_STORAGE");
  serve
      ->add_option("--listen", a->listen,
                   "HOST:PORT to listen on (port 0: any free port); a non-loopback host needs "
                   "a token")
      ->capture_default_str();
  serve->add_option("--token-file", a->token_file,
                    "Token file: 'NAME ROLE sha256:HEX' lines (gpbo token add), or one bare "
                    "token (an admin); default $GPBO_SERVER_TOKEN (an admin)");
  serve->add_option("--tls-cert", a->tls_cert, "PEM certificate (chain): serve HTTPS");
  serve->add_option("--tls-key", a->tls_key, "PEM private key of --tls-cert");
  serve->add_flag("--insecure-http", a->insecure_http,
                  "Accept tokens over plain HTTP on a host that is not loopback");
  serve
      ->add_option("--queue-limit", a->queue_limit,
                   "Requests that may wait for a thread; more get 429 with Retry-After")
      ->check(CLI::Range(0, 1 << 20))
      ->capture_default_str();
  serve
      ->add_option("--rate-limit", a->rate_limit,
                   "Requests per second per token name, sustained (0: no limit); over it: 429")
      ->check(CLI::Range(0.0, 1e9))
      ->capture_default_str();
  serve
      ->add_option("--rate-burst", a->rate_burst,
                   "Burst of requests a token may make at once (0: twice --rate-limit)")
      ->check(CLI::Range(0, 1 << 30))
      ->capture_default_str();
  serve
      ->add_option("--read-timeout", a->read_timeout,
                   "Seconds a client has to send a whole request head (and any read may wait)")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  serve
      ->add_option("--request-timeout", a->request_timeout,
                   "Seconds one request may take to send its body and read its reply")
      ->check(CLI::Range(1, 86400))
      ->capture_default_str();
  serve->add_option("--max-body-bytes", a->max_body_bytes, "Largest request body (413 above)")
      ->check(CLI::Range(std::size_t{1024}, std::size_t{1} << 30))
      ->capture_default_str();
  serve->add_option("--max-batch", a->max_batch, "Largest q of one ask")
      ->check(CLI::Range(1, kMaxAskBatch))
      ->capture_default_str();
  serve->add_option("--threads", a->threads, "Threads serving connections")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  serve
      ->add_option("--refit-every", a->warm.refit_every,
                   "Warm model: refit the hyperparameters in the background after at most this "
                   "many new results")
      ->check(CLI::Range(1, 1 << 20))
      ->capture_default_str();
  serve
      ->add_option("--refit-growth", a->warm.refit_growth,
                   "Warm model: ... or once the results have grown by this share")
      ->check(CLI::Range(0.0, 100.0))
      ->capture_default_str();
  serve->add_flag("--cold-model", a->cold_model,
                  "Refit the hyperparameters in every ask, as the CLI on a store does");
  return [a, serve]() -> int { return *serve ? run_serve(*a) : -1; };
}

}  // namespace gpbo::cli
