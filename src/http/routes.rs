//! Every route is added here with the access it needs, so that the table of routes is known
//! (the permission test walks it) and no route can be added without declaring its access.
use crate::auth::{self, Access};
use crate::state::AppState;
use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{MethodFilter, MethodRouter, on};
use utoipa::openapi::security::SecurityRequirement;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouter};

#[derive(Debug, Clone)]
pub struct RouteInfo {
    pub method: Method,
    pub path: String,
    pub access: Access,
}

pub struct Routes {
    router: OpenApiRouter<AppState>,
    table: Vec<RouteInfo>,
}

impl Default for Routes {
    fn default() -> Self {
        Routes {
            router: OpenApiRouter::new(),
            table: vec![],
        }
    }
}

/// The OpenAPI security entry of an operation, from the access its route declares.
fn security(access: Access) -> Option<Vec<SecurityRequirement>> {
    let scopes = match access {
        Access::Public | Access::Portal => return None,
        Access::Staff => vec![],
        Access::Perm(p) => vec![p.name()],
    };
    Some(vec![SecurityRequirement::new("bearer", scopes)])
}

fn guarded(access: Access, mr: MethodRouter<AppState>) -> MethodRouter<AppState> {
    mr.route_layer(axum::middleware::from_fn(move |req, next| {
        auth::guard(access, req, next)
    }))
}

impl Routes {
    pub fn new() -> Self {
        Self::default()
    }

    fn record(&mut self, method: Method, path: &str, access: Access) {
        assert!(
            access != Access::Public || auth::PUBLIC_ROUTES.contains(&path),
            "{method} {path} is Public but not listed in auth::PUBLIC_ROUTES"
        );
        self.table.push(RouteInfo {
            method,
            path: path.to_string(),
            access,
        });
    }

    /// Documented API routes (`utoipa_axum::routes!`), all needing `access`.
    pub fn api(
        mut self,
        access: Access,
        (schemas, mut paths, mr): UtoipaMethodRouter<AppState>,
    ) -> Self {
        for (path, item) in &mut paths.paths {
            let ops = [
                (Method::GET, &mut item.get),
                (Method::POST, &mut item.post),
                (Method::PUT, &mut item.put),
                (Method::PATCH, &mut item.patch),
                (Method::DELETE, &mut item.delete),
            ];
            for (method, op) in ops {
                if let Some(op) = op {
                    self.record(method, path, access);
                    op.security = security(access);
                }
            }
        }
        self.router = self.router.routes((schemas, paths, guarded(access, mr)));
        self
    }

    pub fn get<H: Handler<T, AppState>, T: 'static>(
        self,
        path: &str,
        access: Access,
        h: H,
    ) -> Self {
        self.add(Method::GET, path, access, h)
    }

    pub fn post<H: Handler<T, AppState>, T: 'static>(
        self,
        path: &str,
        access: Access,
        h: H,
    ) -> Self {
        self.add(Method::POST, path, access, h)
    }

    fn add<H: Handler<T, AppState>, T: 'static>(
        mut self,
        method: Method,
        path: &str,
        access: Access,
        h: H,
    ) -> Self {
        self.record(method.clone(), path, access);
        let filter = MethodFilter::try_from(method).expect("a routable method");
        self.router = self.router.route(path, guarded(access, on(filter, h)));
        self
    }

    pub fn merge(mut self, other: Routes) -> Self {
        self.router = self.router.merge(other.router);
        self.table.extend(other.table);
        self
    }

    pub fn into_parts(self) -> (OpenApiRouter<AppState>, Vec<RouteInfo>) {
        (self.router, self.table)
    }
}
