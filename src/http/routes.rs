//! Every route is added here with the access it needs, so that the table of routes is known
//! (the permission test walks it) and no route can be added without declaring its access.
use super::AppState;
use crate::auth::{self, Access};
use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{MethodFilter, MethodRouter, on};
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
        (schemas, paths, mr): UtoipaMethodRouter<AppState>,
    ) -> Self {
        for (path, item) in &paths.paths {
            let ops = [
                (Method::GET, &item.get),
                (Method::POST, &item.post),
                (Method::PUT, &item.put),
                (Method::PATCH, &item.patch),
                (Method::DELETE, &item.delete),
            ];
            for (method, op) in ops {
                if op.is_some() {
                    self.record(method, path, access);
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
