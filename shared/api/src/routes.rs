//! Registering handlers: each route is mounted with its documented operation (from which the
//! access table comes), as `utoipa_axum::routes!` does, except that the schemas the operation
//! refers to are collected only while the published document is built. A function mounting
//! its routes to serve never reads them, and collecting them was most of the cost of building
//! a router at every cold start.

use std::cell::Cell;

thread_local! {
    static DOCUMENTING: Cell<bool> = const { Cell::new(true) };
}

/// Whether routers built now on this thread go into the published document (then schemas are
/// collected). True unless [`serving_only`] was called: the document is complete by default.
pub fn documenting() -> bool {
    DOCUMENTING.with(Cell::get)
}

/// From now on this thread builds routers only to serve them (a function on Lambda builds its
/// router once, on its one thread).
pub fn serving_only() {
    DOCUMENTING.with(|d| d.set(false));
}

/// An operation as a serving router keeps it: only its security requirement, which is all
/// the access table reads (registering an operation copies it once per method).
#[doc(hidden)]
pub fn for_serving(operation: utoipa::openapi::path::Operation) -> utoipa::openapi::path::Operation {
    let mut slim = utoipa::openapi::path::Operation::new();
    slim.security = operation.security;
    slim
}

#[doc(hidden)]
pub mod __private {
    pub use axum;
    pub use utoipa;
    pub use utoipa_axum;
}

/// The handlers of one path (`routes!(list, create)`), for `Routes::routes`: each handler's
/// `#[utoipa::path]` operation and method; its schemas and tags when [`documenting`], only its
/// security otherwise.
#[macro_export]
macro_rules! routes {
    ($($handler:ident),+ $(,)?) => {{
        #[allow(unused_imports)]
        use $crate::routes::__private::utoipa::{Path as _, __dev::{SchemaReferences as _, Tags as _}};
        use $crate::routes::__private::utoipa_axum::PathItemExt as _;
        let mut paths = $crate::routes::__private::utoipa::openapi::path::Paths::new();
        let mut schemas = ::std::vec::Vec::new();
        let mut router = $crate::routes::__private::axum::routing::MethodRouter::new();
        $($crate::routes::__private::utoipa_axum::paste! {
            let path = [<__path_ $handler>]::path();
            let mut operation = [<__path_ $handler>]::operation();
            let methods = [<__path_ $handler>]::methods();
            if $crate::routes::documenting() {
                [<__path_ $handler>]::schemas(&mut schemas);
                let tags = [<__path_ $handler>]::tags();
                if !tags.is_empty() {
                    operation
                        .tags
                        .get_or_insert(::std::vec::Vec::new())
                        .extend(tags.iter().map(::std::string::ToString::to_string));
                }
            } else {
                operation = $crate::routes::for_serving(operation);
            }
            router = methods.iter().fold(router, |router, method| router.on(method.to_method_filter(), $handler));
            paths.add_path_operation(&path, methods, operation);
        })+
        (schemas, paths, router)
    }};
}
