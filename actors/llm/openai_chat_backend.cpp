#include "actors/llm/openai_chat_backend.hpp"

#include <algorithm>
#include <cctype>

#include "runtime/errors.hpp"
#include "runtime/http/post_json.hpp"
#include "runtime/service/url.hpp"

namespace opea::actors {

using runtime::errc;
using runtime::make_error;
using json = nlohmann::json;

namespace {

/// Keep at most this much of an error body (for the message).
constexpr size_t max_error_body = 64 << 10;

using runtime::http::excerpt;

bool iequals_prefix(const std::string& value, const std::string& prefix) {
  if (value.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(value[i])) !=
        std::tolower(static_cast<unsigned char>(prefix[i])))
      return false;
  return true;
}

std::string header_of(const std::vector<std::pair<std::string, std::string>>& headers,
                      const std::string& name) {
  for (const auto& [k, v] : headers)
    if (k.size() == name.size() && iequals_prefix(k, name)) return v;
  return {};
}

/// The server's own error message in a JSON error body, if any: OpenAI's
/// {"error":{"message"}}, {"error":"..."}, vLLM's {"object":"error","message"}
/// and TGI's {"error":"...","error_type"}.
std::string error_message(const json& j) {
  if (!j.is_object()) return {};
  auto e = j.find("error");
  if (e != j.end()) {
    if (e->is_string()) return e->get<std::string>();
    if (e->is_object()) {
      auto m = e->find("message");
      if (m != e->end() && m->is_string()) return m->get<std::string>();
      return e->dump();
    }
  }
  auto obj = j.find("object");
  if (obj != j.end() && obj->is_string() && obj->get<std::string>() == "error") {
    auto m = j.find("message");
    if (m != j.end() && m->is_string()) return m->get<std::string>();
    return j.dump();
  }
  return {};
}

/// Reads OpenAI's usage object when present and well-formed.
void read_usage(const json& j, chat_usage& out) {
  auto u = j.find("usage");
  if (u == j.end() || !u->is_object()) return;
  auto get = [&](const char* key, int64_t& dst) {
    auto i = u->find(key);
    if (i != u->end() && i->is_number_integer()) dst = i->get<int64_t>();
  };
  get("prompt_tokens", out.prompt_tokens);
  get("completion_tokens", out.completion_tokens);
  get("total_tokens", out.total_tokens);
  if (out.total_tokens == 0) out.total_tokens = out.prompt_tokens + out.completion_tokens;
  out.reported = true;
}

caf::error status_error(const std::string& name, const std::string& url, int status,
                        const std::string& body) {
  auto parsed = json::parse(body, nullptr, false);
  auto why = parsed.is_discarded() ? std::string{} : error_message(parsed);
  if (why.empty()) why = excerpt(body);
  return runtime::http::status_failed(status, why, name, url);
}

std::string endpoint_of(std::string base) {
  while (!base.empty() && base.back() == '/') base.pop_back();
  auto ends = [&](const std::string& s) {
    return base.size() >= s.size() && base.compare(base.size() - s.size(), s.size(), s) == 0;
  };
  if (ends("/chat/completions")) return base;
  if (ends("/v1")) return base + "/chat/completions";
  return base + "/v1/chat/completions";
}

}  // namespace

// -- chat_stream --------------------------------------------------------------

chat_stream::chat_stream(std::string name, std::string url, std::string model,
                         piece_handler on_piece, done_handler done)
    : name_(std::move(name)),
      url_(std::move(url)),
      on_piece_(std::move(on_piece)),
      done_(std::move(done)) {
  result_.model = std::move(model);
}

void chat_stream::cancel() {
  if (finished()) return;
  cancelled_.store(true, std::memory_order_release);
  stop(make_error(errc::cancelled, name_, "cancelled by client"));
}

void chat_stream::complete(caf::expected<chat_result> res) {
  if (finished_.exchange(true, std::memory_order_acq_rel)) return;
  if (done_) done_(std::move(res));
}

void chat_stream::stop(caf::error err) {
  // Complete first: once aborted, the client may report "aborted by caller"
  // through on_end on its I/O thread, and `err` is the error to report.
  complete(std::move(err));
  abort_upstream();
}

void chat_stream::attach(std::shared_ptr<runtime::http::stream_handle> upstream) {
  {
    std::lock_guard<std::mutex> guard{upstream_mtx_};
    upstream_ = std::move(upstream);
  }
  // A callback or another thread may have stopped the generation before the
  // handle was stored; `abort` is idempotent and a no-op after the end.
  if (finished()) abort_upstream();
}

void chat_stream::abort_upstream() {
  std::shared_ptr<runtime::http::stream_handle> upstream;
  {
    std::lock_guard<std::mutex> guard{upstream_mtx_};
    upstream = upstream_;
  }
  if (upstream) upstream->abort();
}

void chat_stream::forward(std::string piece) {
  if (finished() || piece.empty()) return;
  result_.text += piece;
  if (on_piece_) on_piece_(std::move(piece));
}

void chat_stream::on_headers(int status,
                             const std::vector<std::pair<std::string, std::string>>& headers) {
  status_ = status;
  event_stream_ = iequals_prefix(header_of(headers, "content-type"), "text/event-stream");
}

void chat_stream::on_bytes(std::string_view bytes) {
  if (finished()) return;  // Cancelled or failed: read and ignore the rest.
  bool ok_status = status_ >= 200 && status_ <= 299;
  if (!ok_status || !event_stream_) {
    if (body_.size() + bytes.size() > max_error_body && !ok_status) return;
    body_.append(bytes);
    return;
  }
  auto on_ev = [this](const sse_event& ev) { on_event(ev); };
  if (!parser_.feed(bytes, on_ev))
    stop(make_error(errc::bad_response, name_,
                    "event stream of " + url_ + " has a line longer than the limit"));
}

void chat_stream::on_event(const sse_event& ev) {
  if (finished() || saw_done_) return;
  if (ev.event == "error") {
    auto parsed = json::parse(ev.data, nullptr, false);
    auto why = parsed.is_discarded() ? std::string{} : error_message(parsed);
    if (why.empty()) why = excerpt(ev.data);
    stop(make_error(errc::service_failed, name_, url_ + " streamed an error: " + why));
    return;
  }
  if (ev.data == "[DONE]") {
    saw_done_ = true;
    return;
  }
  auto j = json::parse(ev.data, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    stop(make_error(errc::bad_response, name_,
                    "event of " + url_ + " is not a JSON object: " + excerpt(ev.data)));
    return;
  }
  auto why = error_message(j);
  if (!why.empty()) {
    stop(make_error(errc::service_failed, name_, url_ + " streamed an error: " + why));
    return;
  }
  auto m = j.find("model");
  if (m != j.end() && m->is_string() && !m->get<std::string>().empty())
    result_.model = m->get<std::string>();
  read_usage(j, result_.usage);
  auto choices = j.find("choices");
  if (choices == j.end() || !choices->is_array() || choices->empty()) return;  // usage-only
  const auto& choice = (*choices)[0];
  if (!choice.is_object()) return;
  auto fr = choice.find("finish_reason");
  if (fr != choice.end() && fr->is_string()) result_.finish_reason = fr->get<std::string>();
  auto delta = choice.find("delta");
  if (delta == choice.end() || !delta->is_object()) return;
  auto content = delta->find("content");
  if (content != delta->end() && content->is_string()) forward(content->get<std::string>());
}

void chat_stream::on_end(caf::error err) {
  if (finished()) return;
  if (err) {
    auto code =
        runtime::code_of(err) != static_cast<errc>(0) ? runtime::code_of(err) : errc::http_connect;
    auto why = runtime::detail_of(err);
    if (why.empty()) why = runtime::describe(err);
    complete(make_error(code, name_, "POST " + url_ + ": " + why));
    return;
  }
  if (status_ < 200 || status_ > 299) {
    complete(status_error(name_, url_, status_, body_));
    return;
  }
  if (!event_stream_) {
    // The server ignored "stream": true and sent one JSON completion.
    auto res = openai_chat_backend::parse_completion(body_, name_, url_);
    if (!res) {
      complete(std::move(res.error()));
      return;
    }
    auto text = res->text;
    forward(std::move(text));
    if (res->model.empty()) res->model = result_.model;
    complete(std::move(*res));
    return;
  }
  parser_.finish([this](const sse_event& ev) { on_event(ev); });
  if (finished()) return;
  complete(std::move(result_));
}

// -- openai_chat_backend ------------------------------------------------------

openai_chat_backend::openai_chat_backend(openai_chat_config cfg, std::string endpoint,
                                         std::shared_ptr<runtime::http::client> client)
    : cfg_(std::move(cfg)), endpoint_(std::move(endpoint)), client_(std::move(client)) {}

caf::expected<std::shared_ptr<const openai_chat_backend>> openai_chat_backend::make(
    openai_chat_config cfg, std::shared_ptr<runtime::http::client> client) {
  if (cfg.url.empty()) return make_error(errc::bad_request, "params.url", "is required");
  auto endpoint = endpoint_of(cfg.url);
  auto parsed = runtime::url::parse(endpoint);
  if (!parsed)
    return make_error(errc::bad_request, "params.url",
                      "\"" + cfg.url + "\" " + runtime::detail_of(parsed.error()));
  if (cfg.timeout.count() <= 0)
    return make_error(errc::bad_request, "params.timeout_ms", "must be positive");
  if (!client) client = std::make_shared<runtime::http::client>();
  return std::shared_ptr<const openai_chat_backend>{
      new openai_chat_backend(std::move(cfg), std::move(endpoint), std::move(client))};
}

json openai_chat_backend::request_body(const chat_request& req, bool stream) const {
  json body = json::object();
  const auto& model = req.model.empty() ? cfg_.model : req.model;
  if (!model.empty()) body["model"] = model;
  body["messages"] = req.messages;
  if (req.max_tokens) body["max_tokens"] = *req.max_tokens;
  write_sampling_params(req.sampling, body);
  body["stream"] = stream;
  return body;
}

runtime::http::client_request openai_chat_backend::http_request(const chat_request& req,
                                                                bool stream) const {
  runtime::http::client_request out;
  out.method = "POST";
  out.url = endpoint_;
  out.body = request_body(req, stream).dump();
  out.headers = {{"Content-Type", "application/json"},
                 {"Accept", stream ? "text/event-stream" : "application/json"}};
  if (!cfg_.api_key.empty()) out.headers.emplace_back("Authorization", "Bearer " + cfg_.api_key);
  for (const auto& h : req.headers) out.headers.push_back(h);
  out.timeout = req.timeout.count() > 0 ? req.timeout : cfg_.timeout;
  return out;
}

caf::expected<chat_result> openai_chat_backend::parse_completion(const std::string& body,
                                                                 const std::string& name,
                                                                 const std::string& url) {
  auto j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return make_error(errc::bad_response, name,
                      "response of " + url + " is not a JSON object: " + excerpt(body));
  auto why = error_message(j);
  if (!why.empty())
    return make_error(errc::service_failed, name, url + " answered an error: " + why);
  auto choices = j.find("choices");
  const json* content = nullptr;
  const json* choice = nullptr;
  if (choices != j.end() && choices->is_array() && !choices->empty() && (*choices)[0].is_object()) {
    choice = &(*choices)[0];
    auto msg = choice->find("message");
    if (msg != choice->end() && msg->is_object()) {
      auto c = msg->find("content");
      if (c != msg->end() && c->is_string()) content = &*c;
    }
  }
  if (content == nullptr)
    return make_error(
        errc::bad_response, name,
        "response of " + url + " has no choices[0].message.content string: " + excerpt(body));
  chat_result out;
  out.text = content->get<std::string>();
  auto m = j.find("model");
  if (m != j.end() && m->is_string()) out.model = m->get<std::string>();
  auto fr = choice->find("finish_reason");
  if (fr != choice->end() && fr->is_string()) out.finish_reason = fr->get<std::string>();
  read_usage(j, out.usage);
  return out;
}

void openai_chat_backend::complete(chat_request req,
                                   std::function<void(caf::expected<chat_result>)> done) const {
  auto name = cfg_.name;
  auto url = endpoint_;
  auto model = req.model.empty() ? cfg_.model : req.model;
  client_->async_request(
      http_request(req, false), [name, url, model, done = std::move(done)](
                                    caf::expected<runtime::http::client_response> res) {
        if (!res) {
          done(runtime::http::post_failed(res.error(), name, url));
          return;
        }
        if (res->status < 200 || res->status > 299) {
          done(status_error(name, url, res->status, res->body));
          return;
        }
        auto parsed = parse_completion(res->body, name, url);
        if (parsed && parsed->model.empty()) parsed->model = model;
        done(std::move(parsed));
      });
}

std::shared_ptr<chat_stream> openai_chat_backend::stream(chat_request req,
                                                         chat_stream::piece_handler on_piece,
                                                         chat_stream::done_handler done) const {
  auto model = req.model.empty() ? cfg_.model : req.model;
  std::shared_ptr<chat_stream> s{new chat_stream(cfg_.name, endpoint_, std::move(model),
                                                 std::move(on_piece), std::move(done))};
  auto upstream = client_->async_stream(
      http_request(req, true),
      [s](int status, const std::vector<std::pair<std::string, std::string>>& headers) {
        s->on_headers(status, headers);
      },
      [s](std::string_view bytes) { s->on_bytes(bytes); },
      [s](caf::error err) { s->on_end(std::move(err)); });
  s->attach(std::move(upstream));
  return s;
}

}  // namespace opea::actors
