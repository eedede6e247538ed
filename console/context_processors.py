def console(request):
    """The signed-in user's reseller membership, for the layout (None for anonymous or platform staff)."""
    user = getattr(request, "user", None)
    member = getattr(user, "member", None) if user is not None and user.is_authenticated else None
    return {"member": member, "reseller": member.reseller if member else None}
