import factory
from django.contrib.auth import get_user_model

from credits.models import CreditPool
from customers.models import Customer, CustomerBalance, Member, Reseller

__all__ = ["UserFactory", "ResellerFactory", "MemberFactory", "CustomerFactory"]


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", "secret-password")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class ResellerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Reseller
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Reseller {n}")
    uin = factory.Sequence(lambda n: 500000000000 + n)
    contact_email = factory.Sequence(lambda n: f"reseller{n}@example.com")
    contact_phone = "+6580001111"
    pool = factory.RelatedFactory("tests.factories.CreditPoolFactory", factory_related_name="reseller")


class CreditPoolFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CreditPool
        django_get_or_create = ["reseller"]


class MemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Member

    user = factory.SubFactory(UserFactory)
    reseller = factory.SubFactory(ResellerFactory)
    role = Member.Role.OPERATOR


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    uin = factory.Sequence(lambda n: 600000000000 + n)
    reseller = factory.SubFactory(ResellerFactory)
    name = factory.Sequence(lambda n: f"Customer {n}")
    email = factory.Sequence(lambda n: f"customer{n}@example.com")
    phone = "+6590002222"

    @classmethod
    def _create(cls, model_class, *args, credit=None, used=None, frozen=False, **kwargs):
        """A customer with its balance, as customers.services.customer_create binds one; `credit`
        and `used` set the balance directly (test set-up, not an allocation)."""
        customer = super()._create(model_class, *args, **kwargs)
        balance = {"credit": credit, "used": used}
        CustomerBalance.objects.create(
            customer=customer, reseller=customer.reseller, frozen=frozen,
            **{k: v for k, v in balance.items() if v is not None}
        )
        return customer
