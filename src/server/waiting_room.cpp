#include "server/waiting_room.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "gpbo/error.hpp"

namespace gpbo::server {
namespace {

void close_connection(int fd) {
  ::shutdown(fd, SHUT_RDWR);
  ::close(fd);
}

/// A head that did not arrive in time: 408 when part of it came, else nothing, then close.
void time_out(const Connection& c) {
  if (!c.buffer.empty()) {
    const std::string body =
        R"({"error": {"code": "request_timeout", "message": "the request head came too slowly"}})";
    const std::string reply =
        "HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Type: application/json\r\n"
        "Content-Length: " +
        std::to_string(body.size()) + "\r\n\r\n" + body;
    (void)!::send(c.fd, reply.data(), reply.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  }
  close_connection(c.fd);
}

}  // namespace

bool has_complete_head(const std::string& buffer) {
  return buffer.find("\r\n\r\n") != std::string::npos || buffer.find("\n\n") != std::string::npos;
}

WaitingRoom::WaitingRoom(std::function<void(Connection)> ready,
                         std::chrono::milliseconds head_timeout,
                         std::chrono::milliseconds idle_timeout, std::size_t capacity)
    : ready_(std::move(ready)),
      head_timeout_(head_timeout),
      idle_timeout_(idle_timeout),
      capacity_(capacity) {
  if (::pipe2(wake_pipe_, O_CLOEXEC | O_NONBLOCK) != 0) {
    throw Error("gpbo serve: cannot create a pipe");
  }
  thread_ = std::thread([this] { loop(); });
}

WaitingRoom::~WaitingRoom() {
  stop();
  ::close(wake_pipe_[0]);
  ::close(wake_pipe_[1]);
}

void WaitingRoom::add(Connection c, bool idle) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!stopped_ && count_ < capacity_) {
      ++count_;
      const auto timeout = idle ? idle_timeout_ : head_timeout_;
      incoming_.push_back({std::move(c), std::chrono::steady_clock::now() + timeout, idle});
      c.fd = -1;
    }
  }
  if (c.fd >= 0) {
    close_connection(c.fd);
    return;
  }
  wake();
}

void WaitingRoom::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopped_) return;
    stopped_ = true;
  }
  wake();
  if (thread_.joinable()) thread_.join();
}

void WaitingRoom::wake() {
  const char byte = 0;
  (void)!::write(wake_pipe_[1], &byte, 1);
}

void WaitingRoom::loop() {
  std::vector<Waiting> waiting;
  std::vector<pollfd> fds;
  char chunk[8192];
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (Waiting& w : incoming_) waiting.push_back(std::move(w));
      incoming_.clear();
      if (stopped_) {
        for (const Waiting& w : waiting) close_connection(w.conn.fd);
        count_ = 0;
        return;
      }
    }
    auto now = std::chrono::steady_clock::now();
    auto next = now + std::chrono::seconds(60);
    fds.assign(1, pollfd{wake_pipe_[0], POLLIN, 0});
    for (const Waiting& w : waiting) {
      fds.push_back(pollfd{w.conn.fd, POLLIN, 0});
      next = std::min(next, w.deadline);
    }
    const auto wait_ms = std::chrono::duration_cast<std::chrono::milliseconds>(next - now);
    const int n =
        ::poll(fds.data(), fds.size(), static_cast<int>(std::max<long>(0, wait_ms.count()) + 1));
    if (n < 0 && errno != EINTR) continue;
    if (fds[0].revents & POLLIN) {
      while (::read(wake_pipe_[0], chunk, sizeof chunk) > 0) {
      }
    }
    now = std::chrono::steady_clock::now();
    std::vector<Waiting> still;
    std::size_t gone = 0;
    for (std::size_t i = 0; i < waiting.size(); ++i) {
      Waiting& w = waiting[i];
      const short events = fds[i + 1].revents;
      bool closed = false;
      if (events & (POLLIN | POLLHUP | POLLERR)) {
        const ssize_t got = ::recv(w.conn.fd, chunk, sizeof chunk, MSG_DONTWAIT);
        if (got > 0) {
          if (w.idle && w.conn.buffer.empty()) {
            // The next request has begun: its head gets the head timeout from now.
            w.idle = false;
            w.deadline = now + head_timeout_;
          }
          w.conn.buffer.append(chunk, static_cast<std::size_t>(got));
        } else if (got == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
          close_connection(w.conn.fd);
          closed = true;
        }
      }
      if (closed) {
        ++gone;
      } else if (has_complete_head(w.conn.buffer) || w.conn.buffer.size() >= kMaxHead) {
        ++gone;
        ready_(std::move(w.conn));
      } else if (now >= w.deadline) {
        ++gone;
        time_out(w.conn);
      } else {
        still.push_back(std::move(w));
      }
    }
    waiting.swap(still);
    std::lock_guard<std::mutex> lock(mutex_);
    count_ -= gone;
  }
}

}  // namespace gpbo::server
