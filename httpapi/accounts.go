package httpapi

import (
	"net/http"
	"time"

	"github.com/seatkeeper/seatkeeper"
)

// pathIDs returns the named path values after checking each against the
// id pattern, or an invalid_request error.
func pathIDs(r *http.Request, names ...string) ([]string, error) {
	out := make([]string, len(names))
	for i, n := range names {
		v := r.PathValue(n)
		if !validID(v) {
			return nil, &seatkeeper.Error{Code: seatkeeper.EInvalid, Message: "invalid " + n + " in the path",
				Fields: []seatkeeper.FieldError{{Field: n, Message: "must match [A-Za-z0-9._@:-]{1,128}"}}}
		}
		out[i] = v
	}
	return out, nil
}

// decodeBody reads and strictly decodes the JSON body into v.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) error {
	body, err := readBody(w, r)
	if err != nil {
		return err
	}
	return DecodeJSON(body, v)
}

func created(isNew bool) int {
	if isNew {
		return http.StatusCreated
	}
	return http.StatusOK
}

type accountBody struct {
	Name     string `json:"name"`
	Region   string `json:"region"`
	TimeZone string `json:"time_zone"`
	Catalog  string `json:"catalog"`
}

func (s *Server) putAccount(w http.ResponseWriter, r *http.Request) {
	ids, err := pathIDs(r, "account")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var b accountBody
	if err := decodeBody(w, r, &b); err != nil {
		s.fail(w, r, err)
		return
	}
	a, isNew, err := s.Store.PutAccount(r.Context(), actorOf(r), seatkeeper.Account{ID: ids[0], Name: b.Name, Region: b.Region, TimeZone: b.TimeZone, Catalog: b.Catalog})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, created(isNew), a)
}

func (s *Server) getAccount(w http.ResponseWriter, r *http.Request) {
	a, err := s.Store.Account(r.Context(), r.PathValue("account"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, a)
}

func (s *Server) deleteAccount(w http.ResponseWriter, r *http.Request) {
	if err := s.Store.DeleteAccount(r.Context(), actorOf(r), r.PathValue("account")); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type subscriptionBody struct {
	Model            string               `json:"model"`
	Enforcement      string               `json:"enforcement"`
	Quantity         int                  `json:"quantity"`
	OverageAllowance int                  `json:"overage_allowance"`
	GracePeriod      *seatkeeper.Duration `json:"grace_period"`
	BillingPeriod    string               `json:"billing_period"`
	Currency         string               `json:"currency"`
	UnitPrice        int64                `json:"unit_price"`
	OveragePrice     int64                `json:"overage_price"`
	StartsAt         *time.Time           `json:"starts_at"`
	EndsAt           *time.Time           `json:"ends_at"`
}

func (s *Server) putSubscription(w http.ResponseWriter, r *http.Request) {
	ids, err := pathIDs(r, "account", "license")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var b subscriptionBody
	if err := decodeBody(w, r, &b); err != nil {
		s.fail(w, r, err)
		return
	}
	sub := seatkeeper.Subscription{Account: ids[0], License: ids[1], Model: b.Model, Enforcement: b.Enforcement,
		Quantity: b.Quantity, OverageAllowance: b.OverageAllowance, GracePeriod: b.GracePeriod,
		BillingPeriod: b.BillingPeriod, Currency: b.Currency, UnitPrice: b.UnitPrice, OveragePrice: b.OveragePrice, EndsAt: b.EndsAt}
	if b.StartsAt != nil {
		sub.StartsAt = *b.StartsAt
	}
	out, isNew, err := s.Store.PutSubscription(r.Context(), actorOf(r), sub)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, created(isNew), out)
}

func (s *Server) listSubscriptions(w http.ResponseWriter, r *http.Request) {
	subs, err := s.Store.Subscriptions(r.Context(), r.PathValue("account"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": subs})
}

func (s *Server) deleteSubscription(w http.ResponseWriter, r *http.Request) {
	ids, err := pathIDs(r, "account", "license")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.Store.DeleteSubscription(r.Context(), actorOf(r), ids[0], ids[1]); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type tokenBody struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
}

type tokenCreated struct {
	seatkeeper.Token
	Secret string `json:"token"`
}

func (s *Server) createToken(w http.ResponseWriter, r *http.Request) {
	var b tokenBody
	if err := decodeBody(w, r, &b); err != nil {
		s.fail(w, r, err)
		return
	}
	if b.Kind == seatkeeper.TokenOperator {
		s.fail(w, r, seatkeeper.Errorf(seatkeeper.EInvalid, "operator tokens are not made through the API"))
		return
	}
	tok, secret, err := s.Store.CreateToken(r.Context(), actorOf(r), r.PathValue("account"), b.Kind, b.Name)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, tokenCreated{Token: tok, Secret: secret})
}

func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) {
	ids, err := pathIDs(r, "account", "id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.Store.RevokeToken(r.Context(), actorOf(r), ids[0], ids[1]); err != nil {
		s.fail(w, r, err)
		return
	}
	s.InvalidateTokens(ids[0])
	w.WriteHeader(http.StatusNoContent)
}
