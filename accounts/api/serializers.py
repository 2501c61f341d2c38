from rest_framework import serializers

from accounts.models import User


class SignupInput(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=128, trim_whitespace=False, write_only=True)
    display_name = serializers.CharField(max_length=40, required=False, allow_blank=True)


class LoginInput(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=128, trim_whitespace=False, write_only=True)


class RefreshInput(serializers.Serializer):
    refresh = serializers.CharField(max_length=2048)


class TokenPairOutput(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


class UserOutput(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "email", "display_name", "date_joined"]
        read_only_fields = fields


class SignupOutput(TokenPairOutput):
    user = UserOutput()


class ProfileInput(serializers.Serializer):
    display_name = serializers.CharField(max_length=40)
