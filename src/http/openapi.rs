//! The error answers of the API, documented once for every operation from the route table:
//! each as `application/problem+json` with the `Problem` schema, for the statuses that can
//! happen on that operation (400 and 404 always; 401 and 403 behind a login; 409, 413, 415 and
//! 422 where a body is sent).
use super::routes::RouteInfo;
use crate::auth::Access;
use utoipa::openapi::path::Operation;
use utoipa::openapi::{Content, OpenApi, Ref, RefOr, Response};

const PROBLEM: &str = "application/problem+json";

fn problem(description: &str) -> Response {
    let mut r = Response::new(description);
    r.content.insert(
        PROBLEM.into(),
        Content::new(Some(Ref::from_schema_name("Problem"))),
    );
    r
}

/// The error statuses an operation can answer with, and what each means.
fn error_statuses(access: Access, has_body: bool) -> Vec<(&'static str, &'static str)> {
    let mut out = vec![
        ("400", "The request could not be read (path, query or body)"),
        ("404", "No such record"),
    ];
    if access != Access::Public {
        out.push(("401", "No valid API token or session"));
        out.push(("403", "The role lacks the permission"));
    }
    if has_body {
        out.push(("409", "Conflicts with the current state of a record"));
        out.push(("413", "The body is larger than the server accepts"));
        out.push(("415", "The body is not JSON"));
        out.push(("422", "A field is not valid (see `errors`)"));
    }
    out
}

fn document(op: &mut Operation, access: Access, is_write: bool) {
    let has_body = is_write || op.request_body.is_some();
    let responses = &mut op.responses.responses;
    // Error answers are problem+json, whatever the handler's annotation said.
    for (status, response) in responses.iter_mut() {
        let is_error = status.parse::<u16>().is_ok_and(|s| s >= 400);
        if let (true, RefOr::T(r)) = (is_error, response) {
            if let Some(content) = r.content.shift_remove("application/json") {
                r.content.insert(PROBLEM.into(), content);
            }
        }
    }
    for (status, description) in error_statuses(access, has_body) {
        responses
            .entry(status.into())
            .or_insert_with(|| RefOr::T(problem(description)));
    }
}

pub fn document_errors(openapi: &mut OpenApi, table: &[RouteInfo]) {
    for (path, item) in openapi.paths.paths.iter_mut() {
        let ops = [
            ("GET", &mut item.get),
            ("POST", &mut item.post),
            ("PUT", &mut item.put),
            ("PATCH", &mut item.patch),
            ("DELETE", &mut item.delete),
        ];
        for (method, op) in ops {
            let (Some(op), Some(route)) = (
                op.as_mut(),
                table
                    .iter()
                    .find(|r| &r.path == path && r.method.as_str() == method),
            ) else {
                continue;
            };
            document(op, route.access, method != "GET" && method != "DELETE");
        }
    }
}
