//! People and their access: login, password reset, invitations, My account (password, API
//! tokens), Settings > Users, Roles and Audit log, and `projectflo admin create-user`.
pub mod account;
pub mod admin;
pub mod api;
pub mod forms;
pub mod invitations;
pub mod links;
pub mod login;
pub mod passwords;
pub mod roles;
pub mod settings_index;
pub mod tokens;
pub mod users;

use crate::http::routes::Routes;

pub fn routes() -> Routes {
    Routes::new()
        .merge(login::routes())
        .merge(passwords::routes())
        .merge(account::routes())
        .merge(settings_index::routes())
        .merge(users::routes())
        .merge(roles::routes())
        .merge(api::routes())
}
