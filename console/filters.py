import django_filters


class StrictFilterSet(django_filters.FilterSet):
    """A filter value that is not valid selects nothing, and the form says why beside the field.
    (django-filter alone would drop just that filter and list more than was asked for.)"""

    def filter_queryset(self, queryset):
        if not self.form.is_valid():
            return queryset.none()
        return super().filter_queryset(queryset)
