//! Seller accounts: owners (found by id, and by email through a claim item), their sessions
//! (under the owner's partition) and one-time setup links.

use crate::cost::{Kind, record};
use crate::db::{Db, Item, StoreError, Write, n, number, s};
use crate::layout::{
    challenge_key, form_once_key, owner_email_key, owner_key, session_key, setup_link_key, throttle_key,
};
use aws_sdk_dynamodb::types::{AttributeValue, ReturnConsumedCapacity, ReturnValue};
use sellvy_models::account::{Owner, SecondFactor, Session, SetupLink};
use sellvy_models::id::{OwnerId, StoreId};
use sellvy_models::time::Timestamp;

fn with_key(mut item: Item, key: (String, String)) -> Item {
    item.insert("PK".into(), s(key.0));
    item.insert("SK".into(), s(key.1));
    item
}

impl Db {
    /// Makes `email` an owner of `store`: a new owner (with the email's claim), or the store
    /// added to the one who has it. Returns the owner.
    pub async fn add_owner(&self, email: &str, store: &StoreId, now: Timestamp) -> Result<Owner, StoreError> {
        if let Some(mut owner) = self.owner_by_email(email).await? {
            if !owner.owns(store) {
                let w = Write::update(
                    &self.table,
                    owner_key(&owner.id),
                    "SET stores = list_append(stores, :s)",
                    Some("attribute_exists(PK)"),
                    &[(":s", AttributeValue::L(vec![s(store.as_str())]))],
                )?;
                self.transact(vec![w]).await?;
                owner.stores.push(store.clone());
            }
            return Ok(owner);
        }
        let owner = Owner::new(email, store.clone(), now);
        let item = with_key(serde_dynamo::to_item(&owner)?, owner_key(&owner.id));
        let mut claim = Item::new();
        claim.insert("owner_id".into(), s(owner.id.as_str()));
        let claim = with_key(claim, owner_email_key(&owner.email));
        self.transact(vec![
            Write::put(&self.table, item, Some("attribute_not_exists(PK)"), &[])?,
            Write::put(&self.table, claim, Some("attribute_not_exists(PK)"), &[])?
                .or_reject("owner_email", "is another owner's"),
        ])
        .await?;
        Ok(owner)
    }

    pub async fn owner(&self, id: &OwnerId) -> Result<Option<Owner>, StoreError> {
        let (pk, sk) = owner_key(id);
        Ok(self.get(pk, sk, true).await?.map(serde_dynamo::from_item).transpose()?)
    }

    pub async fn owner_by_email(&self, email: &str) -> Result<Option<Owner>, StoreError> {
        let (pk, sk) = owner_email_key(&sellvy_models::account::normalize_email(email));
        let Some(claim) = self.get(pk, sk, true).await? else { return Ok(None) };
        let Some(id) = claim.get("owner_id").and_then(|v| v.as_s().ok()).and_then(|i| OwnerId::parse(i))
        else {
            return Ok(None);
        };
        self.owner(&id).await
    }

    pub async fn set_password(&self, owner: &OwnerId, hash: &str) -> Result<(), StoreError> {
        let w = Write::update(
            &self.table,
            owner_key(owner),
            "SET password_hash = :h",
            Some("attribute_exists(PK)"),
            &[(":h", s(hash))],
        )?;
        self.transact(vec![w]).await
    }

    /// Keeps a second-factor secret being set up (replacing any earlier one).
    pub async fn set_pending_second_factor(&self, owner: &OwnerId, secret: &str) -> Result<(), StoreError> {
        let w = Write::update(
            &self.table,
            owner_key(owner),
            "SET totp_pending = :s",
            Some("attribute_exists(PK)"),
            &[(":s", s(secret))],
        )?;
        self.transact(vec![w]).await
    }

    /// Makes the pending secret the owner's second factor, if it is still the one pending and
    /// none is on (a setup restarted in another tab, or a factor already on:
    /// [`StoreError::Conflict`]).
    pub async fn enable_second_factor(
        &self,
        owner: &OwnerId,
        factor: &SecondFactor,
    ) -> Result<(), StoreError> {
        let w = Write::update(
            &self.table,
            owner_key(owner),
            "SET totp = :f REMOVE totp_pending",
            Some("totp_pending = :s AND attribute_not_exists(totp)"),
            &[(":f", serde_dynamo::to_attribute_value(factor)?), (":s", s(&factor.secret))],
        )?;
        self.transact(vec![w]).await
    }

    pub async fn disable_second_factor(&self, owner: &OwnerId) -> Result<(), StoreError> {
        let w = Write::update(
            &self.table,
            owner_key(owner),
            "REMOVE totp, totp_pending",
            Some("attribute_exists(PK)"),
            &[],
        )?;
        self.transact(vec![w]).await
    }

    /// Records that a sign-in used the code of `step`: `false` when that step (or a later one)
    /// was used already, so a code works once.
    pub async fn use_second_factor_step(&self, owner: &OwnerId, step: i64) -> Result<bool, StoreError> {
        let w = Write::update(
            &self.table,
            owner_key(owner),
            "SET totp.last_step = :step",
            Some("attribute_exists(totp) AND (attribute_not_exists(totp.last_step) OR attribute_type(totp.last_step, :null) OR totp.last_step < :step)"),
            &[(":step", n(step)), (":null", s("NULL"))],
        )?
        .or_refuse();
        match self.transact(vec![w]).await {
            Ok(()) => Ok(true),
            Err(StoreError::Refused) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// A sign-in waiting for its second factor: `token_hash` names it (the form carries the
    /// token), for `owner`, until `ends_at`.
    pub async fn put_sign_in_challenge(
        &self,
        token_hash: &str,
        owner: &OwnerId,
        ends_at: Timestamp,
    ) -> Result<(), StoreError> {
        let mut item = Item::new();
        item.insert("owner_id".into(), s(owner.as_str()));
        item.insert("ends_ms".into(), n(ends_at.millis()));
        item.insert("failures".into(), n(0));
        item.insert("expires_at".into(), n(ends_at.seconds()));
        let item = with_key(item, challenge_key(token_hash));
        self.transact(vec![Write::put(&self.table, item, Some("attribute_not_exists(PK)"), &[])?]).await
    }

    /// The owner a sign-in challenge is for, while it lasts and has failures left.
    pub async fn sign_in_challenge(
        &self,
        token_hash: &str,
        now: Timestamp,
        max_failures: i64,
    ) -> Result<Option<OwnerId>, StoreError> {
        let (pk, sk) = challenge_key(token_hash);
        let Some(item) = self.get(pk, sk, true).await? else { return Ok(None) };
        if number(&item, "ends_ms") <= now.millis() || number(&item, "failures") >= max_failures {
            return Ok(None);
        }
        Ok(item.get("owner_id").and_then(|v| v.as_s().ok()).and_then(|i| OwnerId::parse(i)))
    }

    /// Takes one of the challenge's tries before its code is checked: `false` when it has
    /// ended or has no tries left (tries sent in parallel each take their own, so no more than
    /// `max_tries` codes are ever checked for one challenge).
    pub async fn sign_in_challenge_try(
        &self,
        token_hash: &str,
        now: Timestamp,
        max_tries: i64,
    ) -> Result<bool, StoreError> {
        let w = Write::update(
            &self.table,
            challenge_key(token_hash),
            "ADD failures :one",
            Some("attribute_exists(PK) AND failures < :max AND ends_ms > :now"),
            &[(":one", n(1)), (":max", n(max_tries)), (":now", n(now.millis()))],
        )?
        .or_refuse();
        match self.transact(vec![w]).await {
            Ok(()) => Ok(true),
            Err(StoreError::Refused) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Ends a challenge (its sign-in finished).
    pub async fn end_sign_in_challenge(&self, token_hash: &str) -> Result<(), StoreError> {
        let (pk, sk) = challenge_key(token_hash);
        let out = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("PK", s(pk))
            .key("SK", s(sk))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await?;
        record(Kind::Write, 1, out.consumed_capacity());
        Ok(())
    }

    pub async fn put_setup_link(&self, link: &SetupLink) -> Result<(), StoreError> {
        let mut item = with_key(serde_dynamo::to_item(link)?, setup_link_key(&link.token_hash));
        item.insert("expires_at".into(), n(link.ends_at.seconds()));
        self.transact(vec![Write::put(&self.table, item, Some("attribute_not_exists(PK)"), &[])?]).await
    }

    /// Uses a setup link: removes it (so it works once) and returns whose it was, if it
    /// existed and had not expired at `now`.
    pub async fn take_setup_link(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<Option<OwnerId>, StoreError> {
        let (pk, sk) = setup_link_key(token_hash);
        let out = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("PK", s(pk))
            .key("SK", s(sk))
            .return_values(ReturnValue::AllOld)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await?;
        record(Kind::Write, 1, out.consumed_capacity());
        let Some(old) = out.attributes else { return Ok(None) };
        let link: SetupLink = serde_dynamo::from_item(old)?;
        Ok((now < link.ends_at).then_some(link.owner_id))
    }

    pub async fn put_session(&self, session: &Session) -> Result<(), StoreError> {
        let mut item =
            with_key(serde_dynamo::to_item(session)?, session_key(&session.owner_id, &session.token_hash));
        item.insert("expires_at".into(), n(session.ends_at.seconds()));
        self.transact(vec![Write::put(&self.table, item, None, &[])?]).await
    }

    /// The session of this owner and token, while it lasts (strongly consistent, so a sign-out
    /// ends it at once).
    pub async fn session(
        &self,
        owner: &OwnerId,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<Option<Session>, StoreError> {
        let (pk, sk) = session_key(owner, token_hash);
        let session: Option<Session> =
            self.get(pk, sk, true).await?.map(serde_dynamo::from_item).transpose()?;
        Ok(session.filter(|s| s.is_live(now)))
    }

    pub async fn delete_session(&self, owner: &OwnerId, token_hash: &str) -> Result<(), StoreError> {
        self.transact(vec![Write::delete(&self.table, session_key(owner, token_hash), None, &[])?]).await
    }

    /// Ends every session of an owner ("sign out everywhere"). Returns how many.
    pub async fn delete_sessions(&self, owner: &OwnerId) -> Result<usize, StoreError> {
        let (pk, _) = owner_key(owner);
        let mut ended = 0;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("PK = :pk AND begins_with(SK, :s)")
                .expression_attribute_values(":pk", s(&pk))
                .expression_attribute_values(":s", s("SESSION#"))
                .projection_expression("PK, SK")
                .limit(25)
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send()
                .await?;
            record(Kind::Read, out.items().len(), out.consumed_capacity());
            if out.items().is_empty() {
                return Ok(ended);
            }
            let mut writes = Vec::new();
            for item in out.items() {
                let key = |k: &str| item.get(k).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
                writes.push(Write::delete(&self.table, (key("PK"), key("SK")), None, &[])?);
            }
            ended += writes.len();
            self.transact(writes).await?;
        }
    }

    /// Claims a form's one-time nonce: `false` when it was sent before (a reload that posts
    /// the form again), so the form's work is not done twice.
    pub async fn claim_form(&self, nonce: &str, now: Timestamp) -> Result<bool, StoreError> {
        let mut item = Item::new();
        item.insert("expires_at".into(), n(now.seconds() + 24 * 3600));
        let item = with_key(item, form_once_key(&sellvy_models::account::secret_hash(nonce)));
        let put = Write::put(&self.table, item, Some("attribute_not_exists(PK)"), &[])?
            .or_reject("nonce", "was sent");
        match self.transact(vec![put]).await {
            Ok(()) => Ok(true),
            Err(StoreError::Rejected { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }
}

impl Db {
    /// The subjects' counts as read (`(failures, last_at)` by subject, absent when none) and
    /// the longest wait they impose at `now` (one consistent BatchGetItem).
    async fn throttle_counts(
        &self,
        subjects: &[(String, sellvy_models::account::Throttle)],
        now: Timestamp,
    ) -> Result<(i64, std::collections::HashMap<String, (i64, i64)>), StoreError> {
        let keys = subjects.iter().map(|(subject, _)| throttle_key(subject)).collect();
        let mut counts = std::collections::HashMap::new();
        let mut wait = 0;
        for item in self.batch_get(keys, true).await? {
            let pk = item.get("PK").and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
            let Some((subject, throttle)) =
                subjects.iter().find(|(subject, _)| throttle_key(subject).0 == pk)
            else {
                continue;
            };
            let (failures, last) = (number(&item, "failures"), number(&item, "last_at"));
            counts.insert(subject.clone(), (failures, last));
            if now.seconds() - last > sellvy_models::account::FAILURES_KEPT_SECS {
                continue;
            }
            let until = last + throttle.wait_secs(failures.max(0) as u64);
            wait = wait.max(until - now.seconds());
        }
        Ok((wait, counts))
    }
    /// Reserves one sign-in attempt (a password or a code tried): when no subject must wait,
    /// the attempt is counted at once against the account's subjects (one account from this
    /// address, the account from anywhere), each with a condition on the count it read, so
    /// attempts sent in parallel cannot all pass one read: all but one are refused as if
    /// waiting. A success forgets the count ([`Db::sign_in_succeeded`]); a failure adds to
    /// the address's own ([`Db::sign_in_failed_address`]). `Ok(Err(wait))` when refused.
    pub async fn sign_in_attempt(
        &self,
        subjects: &[(String, sellvy_models::account::Throttle)],
        now: Timestamp,
    ) -> Result<Result<(), i64>, StoreError> {
        let (wait, counts) = self.throttle_counts(subjects, now).await?;
        if wait > 0 {
            return Ok(Err(wait));
        }
        let kept = now.seconds() + sellvy_models::account::FAILURES_KEPT_SECS;
        let cutoff = now.seconds() - sellvy_models::account::FAILURES_KEPT_SECS;
        let mut writes = Vec::new();
        for (subject, _) in subjects.iter().filter(|(s, _)| !s.starts_with("ADDR#")) {
            let Some(&(failures, last)) = counts.get(subject) else {
                let mut item = Item::new();
                item.insert("failures".into(), n(1));
                item.insert("last_at".into(), n(now.seconds()));
                item.insert("expires_at".into(), n(kept));
                let key = throttle_key(subject);
                writes.push(Write::put(
                    &self.table,
                    with_key(item, key),
                    Some("attribute_not_exists(PK)"),
                    &[],
                )?);
                continue;
            };
            let counted = if last < cutoff { 1 } else { failures + 1 };
            writes.push(Write::update(
                &self.table,
                throttle_key(subject),
                "SET failures = :next, last_at = :now, expires_at = :kept",
                Some("failures = :read AND last_at = :last"),
                &[
                    (":next", n(counted)),
                    (":now", n(now.seconds())),
                    (":kept", n(kept)),
                    (":read", n(failures)),
                    (":last", n(last)),
                ],
            )?);
        }
        match self.transact(writes).await {
            Ok(()) => Ok(Ok(())),
            Err(StoreError::Conflict) => Ok(Err(1)),
            Err(e) => Err(e),
        }
    }

    /// Counts a failed attempt against the client address (whatever the account); the
    /// account's subjects counted it when it was reserved.
    pub async fn sign_in_failed_address(
        &self,
        subjects: &[(String, sellvy_models::account::Throttle)],
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let address: Vec<_> = subjects.iter().filter(|(s, _)| s.starts_with("ADDR#")).cloned().collect();
        self.sign_in_failed(&address, now).await
    }

    /// Counts a failed sign-in against each subject (one write each; two for a subject whose
    /// last failure is older than a day, which starts again from one).
    async fn sign_in_failed(
        &self,
        subjects: &[(String, sellvy_models::account::Throttle)],
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let kept = now.seconds() + sellvy_models::account::FAILURES_KEPT_SECS;
        let cutoff = now.seconds() - sellvy_models::account::FAILURES_KEPT_SECS;
        for (subject, _) in subjects {
            let values =
                [(":one", n(1)), (":now", n(now.seconds())), (":kept", n(kept)), (":cutoff", n(cutoff))];
            let recent = Write::update(
                &self.table,
                throttle_key(subject),
                "ADD failures :one SET last_at = :now, expires_at = :kept",
                Some("attribute_not_exists(last_at) OR last_at >= :cutoff"),
                &values,
            )?
            .or_reject("failures", "are old");
            match self.transact(vec![recent]).await {
                Err(StoreError::Rejected { .. }) => {
                    let fresh = Write::update(
                        &self.table,
                        throttle_key(subject),
                        "SET failures = :one, last_at = :now, expires_at = :kept",
                        None,
                        &values[..3],
                    )?;
                    self.transact(vec![fresh]).await?;
                }
                other => other?,
            }
        }
        Ok(())
    }

    /// A right password that opens the code's step: this address's count for the account is
    /// forgotten (its owner may now mistype a code as freely as a password), while the
    /// account's count from anywhere keeps the attempt until a code succeeds, so challenges
    /// cannot be had without limit.
    pub async fn sign_in_password_right(
        &self,
        subjects: &[(String, sellvy_models::account::Throttle)],
    ) -> Result<(), StoreError> {
        let writes = subjects
            .iter()
            .filter(|(subject, _)| subject.starts_with("PAIR#"))
            .map(|(subject, _)| Write::delete(&self.table, throttle_key(subject), None, &[]))
            .collect::<Result<Vec<_>, _>>()?;
        self.transact(writes).await
    }

    /// A successful sign-in forgets its failures but the address's own.
    pub async fn sign_in_succeeded(
        &self,
        subjects: &[(String, sellvy_models::account::Throttle)],
    ) -> Result<(), StoreError> {
        let writes = subjects
            .iter()
            .filter(|(subject, _)| !subject.starts_with("ADDR#"))
            .map(|(subject, _)| Write::delete(&self.table, throttle_key(subject), None, &[]))
            .collect::<Result<Vec<_>, _>>()?;
        self.transact(writes).await
    }
}
