#pragma once
// Where `gpbo serve` keeps connections that have not sent a whole request head yet, or that
// are idle between keep-alive requests: one poll() thread watches them all, so a slow or idle
// client holds a file descriptor, never one of the server's threads ("slowloris"). A
// connection moves on to a server thread once its head has arrived, and is closed when the
// head does not arrive within the head timeout (counted from its first byte, not reset by
// each byte) or an idle connection sends nothing within the idle timeout.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace gpbo::server {

/// A client connection: its socket and the bytes read from it but not yet handled.
struct Connection {
  int fd = -1;
  std::string buffer;
  /// Requests served on it so far.
  int served = 0;
};

/// Whether `buffer` holds a whole HTTP request head (up to the blank line).
bool has_complete_head(const std::string& buffer);

class WaitingRoom {
 public:
  /// `ready` receives each connection whose head is complete (on the room's thread: it must
  /// not block). At most `capacity` connections wait; more are closed at once.
  WaitingRoom(std::function<void(Connection)> ready, std::chrono::milliseconds head_timeout,
              std::chrono::milliseconds idle_timeout, std::size_t capacity);
  /// Closes every waiting connection.
  ~WaitingRoom();
  WaitingRoom(const WaitingRoom&) = delete;
  WaitingRoom& operator=(const WaitingRoom&) = delete;

  /// Takes `c` to wait for its (next) request head; `idle`: it has served a request already.
  /// After stop(), closes it instead.
  void add(Connection c, bool idle);
  /// Closes every waiting connection and ends the thread; later adds close theirs.
  void stop();

  /// Heads larger than this are handed on as they are (the server answers them with an error).
  static constexpr std::size_t kMaxHead = 64 * 1024;

 private:
  struct Waiting {
    Connection conn;
    std::chrono::steady_clock::time_point deadline;
    bool idle = false;
  };
  void loop();
  void wake();

  std::function<void(Connection)> ready_;
  const std::chrono::milliseconds head_timeout_;
  const std::chrono::milliseconds idle_timeout_;
  const std::size_t capacity_;
  int wake_pipe_[2] = {-1, -1};
  std::mutex mutex_;
  std::vector<Waiting> incoming_;
  std::size_t count_ = 0;  // waiting connections, incoming included
  bool stopped_ = false;
  std::thread thread_;
};

}  // namespace gpbo::server
