"""A login step whose arguments and locals hold secrets."""


def login(user, password):
    token = "tok-" + str(sum(map(ord, user + password)))
    session = {"user": user, "token": token}
    return session
