#include "runtime/http/post_json.hpp"

#include "runtime/errors.hpp"
#include "runtime/http/client.hpp"

namespace opea::runtime::http {

namespace {

const std::string& subject_or(const std::string& subject, const std::string& url) {
  return subject.empty() ? url : subject;
}

}  // namespace

std::string excerpt(std::string_view body, size_t max) {
  if (body.size() <= max) return std::string{body};
  return std::string{body.substr(0, max)} + "...";
}

caf::error post_failed(const caf::error& err, const std::string& subject, const std::string& url) {
  auto code = code_of(err) != static_cast<errc>(0) ? code_of(err) : errc::http_connect;
  auto why = detail_of(err);
  if (why.empty()) why = describe(err);
  return make_error(code, subject_or(subject, url), "POST " + url + ": " + why);
}

caf::error status_failed(int status, const std::string& why, const std::string& subject,
                         const std::string& url) {
  auto from = subject.empty() || subject == url ? std::string{} : " from " + url;
  return make_error(errc::http_status, subject_or(subject, url),
                    "HTTP " + std::to_string(status) + from + ": " + why);
}

caf::expected<client_response> checked_response(caf::expected<client_response> res,
                                                const std::string& subject,
                                                const std::string& url) {
  if (!res) return post_failed(res.error(), subject, url);
  if (res->status < 200 || res->status > 299)
    return status_failed(res->status, excerpt(res->body), subject, url);
  return res;
}

caf::expected<nlohmann::json> parse_json_body(const std::string& body, const std::string& subject,
                                              const std::string& url) {
  auto parsed = nlohmann::json::parse(body, nullptr, false);
  if (!parsed.is_discarded()) return parsed;
  auto what = subject.empty() || subject == url ? std::string{"not valid JSON: "}
                                                : "response of " + url + " is not valid JSON: ";
  return make_error(errc::bad_response, subject_or(subject, url), what + excerpt(body));
}

std::shared_ptr<stream_handle> post_json(client& c, json_post req,
                                         std::function<void(caf::expected<nlohmann::json>)> done) {
  client_request out;
  out.method = "POST";
  out.url = req.url;
  out.body = std::move(req.body);
  out.headers = std::move(req.headers);
  out.headers.emplace_back("Content-Type", "application/json");
  out.headers.emplace_back("Accept", "application/json");
  out.timeout = req.timeout;
  return c.async_request(std::move(out),
                         [url = std::move(req.url), subject = std::move(req.subject),
                          done = std::move(done)](caf::expected<client_response> res) {
                           auto ok = checked_response(std::move(res), subject, url);
                           if (!ok) {
                             done(std::move(ok.error()));
                             return;
                           }
                           done(parse_json_body(ok->body, subject, url));
                         });
}

}  // namespace opea::runtime::http
