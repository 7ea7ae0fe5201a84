// Load driver for `gpbo serve`: N client threads x M rounds of ask -> evaluate -> tell over
// HTTP, then a check of the study. Prints one JSON line with the ask latency quantiles and the
// throughput.
//
//   serve_load --url http://127.0.0.1:8470 --study S --clients 64 --rounds 50
//              [--token-file F] [--worker-prefix c] [--retry-seconds 60] [--acks FILE]
//              [--expect-total N]
//
// Each client has worker id <prefix><i>; its objective is computed here from the params
// (a quadratic), so the check can tell whether every value landed on its own trial. With
// --retry-seconds, a request that gets no reply (server down) or a 503 is sent again until that
// many seconds have passed without success (asks keep their worker id, so an ask whose reply
// was lost gets its running trial back; tells are idempotent). --acks appends "id value" for
// every tell the server acknowledged. The check (exit 1 on failure): the study's trials have
// ids 0..n-1 (n = --expect-total when given), this run's workers hold exactly M complete trials
// each, no two trials share params, every value is the objective of its params, and every
// acknowledged tell is stored.
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

struct Args {
  std::string url = "http://127.0.0.1:8470";
  std::string study;
  std::string token;
  std::string prefix = "c";
  std::string acks;
  int clients = 8;
  int rounds = 10;
  double retry_seconds = 0.0;
  long expect_total = -1;
};

[[noreturn]] void usage(const std::string& why) {
  std::fprintf(stderr, "serve_load: %s\n", why.c_str());
  std::exit(2);
}

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    if (i + 1 >= argc) usage("missing value after " + k);
    const std::string v = argv[++i];
    if (k == "--url") {
      a.url = v;
    } else if (k == "--study") {
      a.study = v;
    } else if (k == "--token-file") {
      std::ifstream in(v);
      std::getline(in, a.token);
      if (a.token.empty()) usage("empty token file " + v);
    } else if (k == "--worker-prefix") {
      a.prefix = v;
    } else if (k == "--acks") {
      a.acks = v;
    } else if (k == "--clients") {
      a.clients = std::stoi(v);
    } else if (k == "--rounds") {
      a.rounds = std::stoi(v);
    } else if (k == "--retry-seconds") {
      a.retry_seconds = std::stod(v);
    } else if (k == "--expect-total") {
      a.expect_total = std::stol(v);
    } else {
      usage("unknown option " + k);
    }
  }
  if (a.study.empty()) usage("--study is required");
  if (a.clients < 1 || a.rounds < 1) usage("--clients and --rounds must be >= 1");
  return a;
}

/// The objective of a trial's params: a quadratic of the numbers, an offset per string.
double objective(const json& params) {
  double v = 0.0;
  for (const auto& [name, p] : params.items()) {
    if (p.is_number()) {
      const double x = p.get<double>();
      v += (x - 0.3) * (x - 0.3);
    } else if (p.is_string()) {
      v += 0.5 * static_cast<double>(p.get<std::string>().size());
    }
  }
  return v;
}

class Http {
 public:
  explicit Http(const Args& a) : args_(a), client_(a.url) {
    client_.set_connection_timeout(5);
    client_.set_read_timeout(120);
    client_.set_write_timeout(30);
    if (!a.token.empty()) client_.set_bearer_token_auth(a.token);
  }
  /// The JSON reply of a 2xx; retries as --retry-seconds allows; throws otherwise.
  json call(const std::string& method, const std::string& path, const std::string& body,
            int* retries) {
    const auto give_up = Clock::now() + std::chrono::duration<double>(args_.retry_seconds);
    while (true) {
      httplib::Result r =
          method == "GET" ? client_.Get(path) : client_.Post(path, body, "application/json");
      std::string why;
      if (!r) {
        why = "no reply (" + httplib::to_string(r.error()) + ")";
      } else if (r->status >= 200 && r->status < 300) {
        return json::parse(r->body);
      } else if (r->status != 503) {
        throw std::runtime_error(method + " " + path + ": HTTP " + std::to_string(r->status) + " " +
                                 r->body);
      } else {
        why = "HTTP 503 " + r->body;
      }
      if (Clock::now() >= give_up) throw std::runtime_error(method + " " + path + ": " + why);
      ++*retries;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }

 private:
  const Args& args_;
  httplib::Client client_;
};

double quantile(std::vector<double> v, double q) {
  if (v.empty()) return std::nan("");
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(q * static_cast<double>(v.size() - 1) + 0.5)];
}

}  // namespace

int main(int argc, char** argv) {
  const Args a = parse(argc, argv);
  const std::string base = "/v1/studies/" + a.study;  // callers pass URL-safe names
  std::mutex mutex;
  std::vector<double> ask_ms, tell_ms;
  std::vector<std::string> errors;
  std::atomic<int> retries{0};
  std::ofstream acks;
  if (!a.acks.empty()) acks.open(a.acks, std::ios::app);

  const auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int i = 0; i < a.clients; ++i) {
    threads.emplace_back([&, i] {
      Http http(a);
      const std::string worker = a.prefix + std::to_string(i);
      std::vector<double> my_ask, my_tell;
      int my_retries = 0;
      try {
        for (int r = 0; r < a.rounds; ++r) {
          const auto t0 = Clock::now();
          const json asked = http.call("POST", base + "/ask",
                                       json{{"q", 1}, {"worker_id", worker}}.dump(), &my_retries);
          const auto t1 = Clock::now();
          const json& t = asked.at("trials").at(0);
          const double value = objective(t.at("params"));
          const std::int64_t id = t.at("id").get<std::int64_t>();
          const auto t2 = Clock::now();
          http.call("POST", base + "/trials/" + std::to_string(id) + "/tell",
                    json{{"value", value}}.dump(), &my_retries);
          const auto t3 = Clock::now();
          my_ask.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
          my_tell.push_back(std::chrono::duration<double, std::milli>(t3 - t2).count());
          if (acks.is_open()) {
            std::lock_guard<std::mutex> lock(mutex);
            acks << id << " " << json(value).dump() << std::endl;  // flushed: survives a kill
          }
        }
      } catch (const std::exception& e) {
        std::lock_guard<std::mutex> lock(mutex);
        errors.push_back(worker + ": " + e.what());
      }
      std::lock_guard<std::mutex> lock(mutex);
      ask_ms.insert(ask_ms.end(), my_ask.begin(), my_ask.end());
      tell_ms.insert(tell_ms.end(), my_tell.begin(), my_tell.end());
      retries += my_retries;
    });
  }
  for (std::thread& t : threads) t.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();

  // The check, on the study as the server now reports it.
  Http http(a);
  int unused = 0;
  std::vector<std::string> problems = errors;
  json trials;
  try {
    trials = http.call("GET", base + "/trials", "", &unused).at("trials");
  } catch (const std::exception& e) {
    problems.push_back(std::string("cannot list the trials: ") + e.what());
  }
  std::map<std::string, int> per_worker;
  std::set<std::string> seen_params;
  std::map<std::int64_t, double> stored;
  long index = 0;
  for (const json& t : trials) {
    const std::int64_t id = t.at("id").get<std::int64_t>();
    if (id != index++) problems.push_back("trial ids are not 0..n-1 at id " + std::to_string(id));
    const std::string key = t.at("params").dump();
    if (!seen_params.insert(key).second) problems.push_back("duplicate params " + key);
    const std::string worker = t.at("worker_id").get<std::string>();
    if (worker.rfind(a.prefix, 0) != 0) continue;  // someone else's trial
    ++per_worker[worker];
    if (t.at("state") != "complete") {
      problems.push_back("trial " + std::to_string(id) + " of " + worker + " is " +
                         t.at("state").get<std::string>());
      continue;
    }
    const double v = t.at("value").get<double>();
    stored[id] = v;
    if (std::abs(v - objective(t.at("params"))) > 1e-12 * std::max(1.0, std::abs(v))) {
      problems.push_back("trial " + std::to_string(id) + " has another trial's value");
    }
  }
  if (a.expect_total >= 0 && static_cast<long>(trials.size()) != a.expect_total) {
    problems.push_back("expected " + std::to_string(a.expect_total) + " trials, the study has " +
                       std::to_string(trials.size()));
  }
  for (int i = 0; i < a.clients; ++i) {
    const std::string w = a.prefix + std::to_string(i);
    if (per_worker[w] != a.rounds) {
      problems.push_back(w + " holds " + std::to_string(per_worker[w]) + " trials, not " +
                         std::to_string(a.rounds));
    }
  }
  long acked = 0;
  if (!a.acks.empty()) {
    acks.close();
    std::ifstream in(a.acks);
    std::int64_t id = 0;
    double v = 0.0;
    while (in >> id >> v) {
      ++acked;
      const auto it = stored.find(id);
      if (it == stored.end() || it->second != v) {
        problems.push_back("acknowledged tell of trial " + std::to_string(id) + " is not stored");
      }
    }
  }

  const json summary = {{"clients", a.clients},
                        {"rounds", a.rounds},
                        {"asks", ask_ms.size()},
                        {"elapsed_s", elapsed},
                        {"asks_per_s", static_cast<double>(ask_ms.size()) / elapsed},
                        {"ask_p50_ms", quantile(ask_ms, 0.50)},
                        {"ask_p99_ms", quantile(ask_ms, 0.99)},
                        {"ask_max_ms", quantile(ask_ms, 1.0)},
                        {"tell_p50_ms", quantile(tell_ms, 0.50)},
                        {"tell_p99_ms", quantile(tell_ms, 0.99)},
                        {"retries", retries.load()},
                        {"study_trials", trials.size()},
                        {"acknowledged_tells_checked", acked},
                        {"ok", problems.empty()}};
  std::printf("%s\n", summary.dump().c_str());
  for (std::size_t i = 0; i < problems.size() && i < 20; ++i) {
    std::fprintf(stderr, "serve_load: FAIL: %s\n", problems[i].c_str());
  }
  return problems.empty() ? 0 : 1;
}
